-- The logs query's key_name filter matches the exact name first (an index
-- range over the name and time), and falls back to a substring scan only when
-- no row has that exact name (docs/admin-api.md, "Logs").
CREATE INDEX idx_request_logs_key_name ON request_logs (api_key_name, created_at);
CREATE INDEX idx_request_logs_history_key_name ON request_logs_history (api_key_name, created_at);
