-- SQLite twin of postgresql/0007_log_key_name_index.sql.
CREATE INDEX idx_request_logs_key_name ON request_logs (api_key_name, created_at);
CREATE INDEX idx_request_logs_history_key_name ON request_logs_history (api_key_name, created_at);
