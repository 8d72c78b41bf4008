-- SQLite twin of postgresql/0001_initial.sql: same tables, columns and meaning.
-- Timestamps are ISO 8601 UTC text ("2026-11-26T13:45:00.123Z"), booleans 0/1.
CREATE TABLE providers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    adapter TEXT NOT NULL DEFAULT 'openai',
    base_url TEXT NOT NULL,
    api_key_sealed TEXT,
    api_key_hint TEXT NOT NULL DEFAULT '',
    options TEXT NOT NULL DEFAULT '{}',
    max_concurrency INTEGER NOT NULL DEFAULT 8,
    queue_timeout_ms INTEGER NOT NULL DEFAULT 30000,
    first_byte_timeout_ms INTEGER NOT NULL DEFAULT 120000,
    idle_timeout_ms INTEGER NOT NULL DEFAULT 120000,
    total_timeout_ms INTEGER NOT NULL DEFAULT 600000,
    merge_consecutive_messages INTEGER NOT NULL DEFAULT 0,
    is_active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE models (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    display_name TEXT,
    max_tokens INTEGER NOT NULL DEFAULT 16384,
    context_length INTEGER NOT NULL DEFAULT 131072,
    thinking_enabled INTEGER NOT NULL DEFAULT 0,
    thinking_budget INTEGER NOT NULL DEFAULT 8192,
    is_multimodal INTEGER NOT NULL DEFAULT 0,
    is_active INTEGER NOT NULL DEFAULT 1,
    estimated_price REAL NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE provider_models (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    provider_id INTEGER NOT NULL REFERENCES providers(id) ON DELETE CASCADE,
    model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    model_name_override TEXT,
    is_active INTEGER NOT NULL DEFAULT 1,
    source TEXT NOT NULL DEFAULT 'manual',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (provider_id, model_id)
);

CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    key_prefix TEXT NOT NULL,
    is_active INTEGER NOT NULL DEFAULT 1,
    last_used_at TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE api_key_models (
    api_key_id INTEGER NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
    provider_model_id INTEGER NOT NULL REFERENCES provider_models(id) ON DELETE CASCADE,
    PRIMARY KEY (api_key_id, provider_model_id)
);

CREATE TABLE api_key_time_rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    api_key_id INTEGER NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
    rule_type TEXT NOT NULL,
    allowed INTEGER NOT NULL DEFAULT 1,
    start_time TEXT,
    end_time TEXT,
    start_date TEXT,
    end_date TEXT,
    weekdays TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX idx_api_key_time_rules_key ON api_key_time_rules (api_key_id);

CREATE TABLE request_logs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL UNIQUE,
    api_key_id INTEGER,
    api_key_name TEXT,
    provider_id INTEGER,
    provider_name TEXT,
    model TEXT NOT NULL,
    requested_model TEXT,
    endpoint TEXT NOT NULL DEFAULT 'chat',
    is_stream INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    upstream_status_code INTEGER,
    downstream_status_code INTEGER,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    total_tokens INTEGER,
    tokens_estimated INTEGER NOT NULL DEFAULT 0,
    usage TEXT,
    latency_ms REAL,
    ttft_ms REAL,
    queue_ms REAL,
    client_ip TEXT,
    user_agent TEXT,
    error TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX idx_request_logs_created_at ON request_logs (created_at);
CREATE INDEX idx_request_logs_api_key ON request_logs (api_key_id);
CREATE INDEX idx_request_logs_provider ON request_logs (provider_id);
CREATE INDEX idx_request_logs_status ON request_logs (status);

CREATE TABLE request_logs_history (
    id INTEGER PRIMARY KEY,
    request_id TEXT NOT NULL,
    api_key_id INTEGER,
    api_key_name TEXT,
    provider_id INTEGER,
    provider_name TEXT,
    model TEXT NOT NULL,
    requested_model TEXT,
    endpoint TEXT NOT NULL DEFAULT 'chat',
    is_stream INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    upstream_status_code INTEGER,
    downstream_status_code INTEGER,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    total_tokens INTEGER,
    tokens_estimated INTEGER NOT NULL DEFAULT 0,
    usage TEXT,
    latency_ms REAL,
    ttft_ms REAL,
    queue_ms REAL,
    client_ip TEXT,
    user_agent TEXT,
    error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    archive_month TEXT NOT NULL,
    archived_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX idx_request_logs_history_created_at ON request_logs_history (created_at);
CREATE INDEX idx_request_logs_history_month ON request_logs_history (archive_month);

CREATE VIEW request_logs_all AS
    SELECT id, request_id, api_key_id, api_key_name, provider_id, provider_name, model,
           requested_model, endpoint, is_stream, status, upstream_status_code,
           downstream_status_code, prompt_tokens, completion_tokens, total_tokens,
           tokens_estimated, usage, latency_ms, ttft_ms, queue_ms, client_ip, user_agent,
           error, created_at, updated_at
    FROM request_logs
    UNION ALL
    SELECT id, request_id, api_key_id, api_key_name, provider_id, provider_name, model,
           requested_model, endpoint, is_stream, status, upstream_status_code,
           downstream_status_code, prompt_tokens, completion_tokens, total_tokens,
           tokens_estimated, usage, latency_ms, ttft_ms, queue_ms, client_ip, user_agent,
           error, created_at, updated_at
    FROM request_logs_history;

CREATE TABLE admin_sessions (
    token_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    expires_at TEXT NOT NULL
);
CREATE INDEX idx_admin_sessions_expires ON admin_sessions (expires_at);

CREATE TABLE config_state (
    id INTEGER PRIMARY KEY,
    version INTEGER NOT NULL
);
INSERT INTO config_state (id, version) VALUES (1, 1);

CREATE TABLE scheduler_leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    lease_until TEXT NOT NULL,
    last_run_at TEXT
);
