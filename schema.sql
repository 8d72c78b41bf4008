-- ModelGate PostgreSQL schema: the reference for every table.
-- The gateway creates and upgrades it itself with the versioned migrations in
-- core/store/migrations/ (schema_migrations records which ran); this file is the
-- result of all of them, kept in step by a test (tests/integration/schema_test).

-- Providers: upstream APIs. The upstream key is sealed (AES-256-GCM) with the
-- gateway's master key; api_key_hint is a masked form for display.
CREATE TABLE providers (
    id BIGSERIAL PRIMARY KEY,
    name VARCHAR(50) NOT NULL UNIQUE,
    adapter VARCHAR(50) NOT NULL DEFAULT 'openai',
    base_url VARCHAR(255) NOT NULL,
    api_key_sealed TEXT,
    api_key_hint VARCHAR(32) NOT NULL DEFAULT '',
    options JSONB NOT NULL DEFAULT '{}',
    max_concurrency INTEGER NOT NULL DEFAULT 8,
    queue_timeout_ms INTEGER NOT NULL DEFAULT 30000,
    first_byte_timeout_ms INTEGER NOT NULL DEFAULT 120000,
    idle_timeout_ms INTEGER NOT NULL DEFAULT 120000,
    total_timeout_ms INTEGER NOT NULL DEFAULT 600000,
    merge_consecutive_messages BOOLEAN NOT NULL DEFAULT FALSE,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    paused_until TIMESTAMPTZ,
    pause_reason VARCHAR(255)
);

CREATE TABLE models (
    id BIGSERIAL PRIMARY KEY,
    name VARCHAR(100) NOT NULL UNIQUE,
    display_name VARCHAR(100),
    max_tokens INTEGER NOT NULL DEFAULT 16384,
    context_length INTEGER NOT NULL DEFAULT 131072,
    thinking_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    thinking_budget INTEGER NOT NULL DEFAULT 8192,
    is_multimodal BOOLEAN NOT NULL DEFAULT FALSE,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    estimated_price DOUBLE PRECISION NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Bindings: which models a provider serves, under which extra name.
CREATE TABLE provider_models (
    id BIGSERIAL PRIMARY KEY,
    provider_id BIGINT NOT NULL REFERENCES providers(id) ON DELETE CASCADE,
    model_id BIGINT NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    model_name_override VARCHAR(100),
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    source VARCHAR(10) NOT NULL DEFAULT 'manual',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (provider_id, model_id)
);

-- Gateway API keys: only a SHA-256 of the secret and a display prefix are kept.
CREATE TABLE api_keys (
    id BIGSERIAL PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    key_hash CHAR(64) NOT NULL UNIQUE,
    key_prefix VARCHAR(16) NOT NULL,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    last_used_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- A key's model allowlist; no rows means every model.
CREATE TABLE api_key_models (
    api_key_id BIGINT NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
    provider_model_id BIGINT NOT NULL REFERENCES provider_models(id) ON DELETE CASCADE,
    PRIMARY KEY (api_key_id, provider_model_id)
);

CREATE TABLE api_key_time_rules (
    id BIGSERIAL PRIMARY KEY,
    api_key_id BIGINT NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
    rule_type VARCHAR(20) NOT NULL,
    allowed BOOLEAN NOT NULL DEFAULT TRUE,
    start_time VARCHAR(8),
    end_time VARCHAR(8),
    start_date VARCHAR(10),
    end_date VARCHAR(10),
    weekdays VARCHAR(20),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_api_key_time_rules_key ON api_key_time_rules (api_key_id);

-- One row per proxied call. Key and provider names are copied so a row stays
-- readable after the key or provider is deleted (no foreign keys on purpose).
CREATE TABLE request_logs (
    id BIGSERIAL PRIMARY KEY,
    request_id VARCHAR(40) NOT NULL UNIQUE,
    api_key_id BIGINT,
    api_key_name VARCHAR(100),
    provider_id BIGINT,
    provider_name VARCHAR(50),
    model VARCHAR(200) NOT NULL,
    requested_model VARCHAR(250),
    endpoint VARCHAR(20) NOT NULL DEFAULT 'chat',
    is_stream BOOLEAN NOT NULL DEFAULT FALSE,
    status VARCHAR(20) NOT NULL,
    upstream_status_code INTEGER,
    downstream_status_code INTEGER,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    total_tokens INTEGER,
    tokens_estimated BOOLEAN NOT NULL DEFAULT FALSE,
    usage JSONB,
    latency_ms DOUBLE PRECISION,
    ttft_ms DOUBLE PRECISION,
    queue_ms DOUBLE PRECISION,
    client_ip VARCHAR(64),
    user_agent VARCHAR(1024),
    error TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_request_logs_created_at ON request_logs (created_at);
CREATE INDEX idx_request_logs_api_key ON request_logs (api_key_id);
CREATE INDEX idx_request_logs_provider ON request_logs (provider_id);
CREATE INDEX idx_request_logs_status ON request_logs (status);

-- Rows older than 30 days move here; request_logs_all reads both.
CREATE TABLE request_logs_history (
    id BIGINT PRIMARY KEY,
    request_id VARCHAR(40) NOT NULL,
    api_key_id BIGINT,
    api_key_name VARCHAR(100),
    provider_id BIGINT,
    provider_name VARCHAR(50),
    model VARCHAR(200) NOT NULL,
    requested_model VARCHAR(250),
    endpoint VARCHAR(20) NOT NULL DEFAULT 'chat',
    is_stream BOOLEAN NOT NULL DEFAULT FALSE,
    status VARCHAR(20) NOT NULL,
    upstream_status_code INTEGER,
    downstream_status_code INTEGER,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    total_tokens INTEGER,
    tokens_estimated BOOLEAN NOT NULL DEFAULT FALSE,
    usage JSONB,
    latency_ms DOUBLE PRECISION,
    ttft_ms DOUBLE PRECISION,
    queue_ms DOUBLE PRECISION,
    client_ip VARCHAR(64),
    user_agent VARCHAR(1024),
    error TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    archive_month VARCHAR(7) NOT NULL,
    archived_at TIMESTAMPTZ NOT NULL DEFAULT now()
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

-- Admin sessions live in the database so every instance honours them.
CREATE TABLE admin_sessions (
    token_hash CHAR(64) PRIMARY KEY,
    username VARCHAR(100) NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_admin_sessions_expires ON admin_sessions (expires_at);

-- Bumped on every configuration change; instances reload their caches when it moves.
CREATE TABLE config_state (
    id INTEGER PRIMARY KEY,
    version BIGINT NOT NULL
);
INSERT INTO config_state (id, version) VALUES (1, 1);

-- Scheduled jobs run once across instances: whoever holds the lease runs it.
CREATE TABLE scheduler_leases (
    name VARCHAR(100) PRIMARY KEY,
    holder VARCHAR(100) NOT NULL,
    lease_until TIMESTAMPTZ NOT NULL,
    last_run_at TIMESTAMPTZ
);

-- Several upstream keys per provider, each with its own concurrency limit and
-- an automatic cool-down (paused_until) that never touches the admin's own
-- is_active switch. Keys are sealed like the provider key before them; key_hash
-- (SHA-256 of the secret) only detects duplicates.
CREATE TABLE provider_keys (
    id BIGSERIAL PRIMARY KEY,
    provider_id BIGINT NOT NULL REFERENCES providers(id) ON DELETE CASCADE,
    label VARCHAR(50) NOT NULL DEFAULT '',
    api_key_sealed TEXT NOT NULL,
    api_key_hint VARCHAR(32) NOT NULL DEFAULT '',
    key_hash CHAR(64) NOT NULL,
    max_concurrency INTEGER,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    paused_until TIMESTAMPTZ,
    pause_reason VARCHAR(255),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (provider_id, key_hash)
);
CREATE INDEX idx_provider_keys_provider ON provider_keys (provider_id);

-- Cool-downs per (upstream key, model): a rate limit pauses one model on one key,
-- not the key. key_id 0 is the keyless slot of a provider without keys. strikes
-- counts refusals in a row; length_ms is the last pause's length, which a refused
-- probe doubles. A success deletes the row. (Migration 0003.)
CREATE TABLE provider_key_model_pauses (
    provider_id BIGINT NOT NULL REFERENCES providers(id) ON DELETE CASCADE,
    key_id BIGINT NOT NULL,
    model VARCHAR(200) NOT NULL,
    paused_until TIMESTAMPTZ NOT NULL,
    reason VARCHAR(255),
    strikes INTEGER NOT NULL DEFAULT 1,
    length_ms BIGINT NOT NULL DEFAULT 0,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (provider_id, key_id, model)
);

-- Gateway-wide settings (outbound User-Agent, ...), edited through the admin API.
CREATE TABLE system_settings (
    key VARCHAR(100) PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
