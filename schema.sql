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

-- Scheduled jobs (registered in code at start). scheduler_tasks keeps the
-- enabled switch every instance honours; scheduler_runs records every run. An
-- instance claims a scheduled run by inserting its (task_name, slot) row, so
-- each slot runs once across instances. slot: the due time (ISO 8601 UTC) or
-- 'manual:<hex>'. A 'running' row without a heartbeat for two minutes was left
-- by a stopped instance ('abandoned'). summary is in English; summary_key and
-- summary_args (a JSON object of strings) say it again in any catalog language.
CREATE TABLE scheduler_tasks (
    name VARCHAR(100) PRIMARY KEY,
    owner VARCHAR(100) NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    schedule VARCHAR(100) NOT NULL,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE scheduler_runs (
    id BIGSERIAL PRIMARY KEY,
    task_name VARCHAR(100) NOT NULL,
    slot VARCHAR(64) NOT NULL,
    instance_id VARCHAR(100) NOT NULL,
    trigger_kind VARCHAR(10) NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    heartbeat_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    outcome VARCHAR(10) NOT NULL,
    rows_touched BIGINT NOT NULL DEFAULT 0,
    summary TEXT NOT NULL DEFAULT '',
    error TEXT,
    summary_key VARCHAR(100) NOT NULL DEFAULT '',
    summary_args TEXT NOT NULL DEFAULT '{}',
    UNIQUE (task_name, slot)
);
CREATE INDEX idx_scheduler_runs_task ON scheduler_runs (task_name, id);
CREATE INDEX idx_scheduler_runs_started ON scheduler_runs (started_at);

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

-- Statistics (migration 0004).
-- Statistics (docs/operations.md, "Statistics"). Every table is a sum of
-- request_logs_all rows over a local day (MODELGATE_TIMEZONE) and some of the
-- provider / model / API key dimensions; names are copied so rows outlive
-- deletions, '' and 0 stand for "none". requests counts every call except the
-- rate-limited ones (counted in rate_limited, with no tokens); errors, timeouts,
-- cancelled and pending are parts of requests. Latency figures cover successful
-- calls: a sum, a count, the extremes and a histogram (lat_b00..lat_b15, bounds
-- in core/store/stats_store.hpp) from which percentiles are estimated.

-- One row per aggregated day: when, in which zone, from how many rows, and how
-- many of them were still pending (such a day is aggregated again once they end).
CREATE TABLE stats_days (
    date VARCHAR(10) PRIMARY KEY,
    time_zone VARCHAR(64) NOT NULL,
    aggregated_at TIMESTAMPTZ NOT NULL,
    source_rows BIGINT NOT NULL DEFAULT 0,
    pending_rows BIGINT NOT NULL DEFAULT 0
);

-- One row per local hour, provider, model and API key: the finest grain, behind the
-- day and week views and the response-time analysis.
CREATE TABLE hourly_stats (
    date VARCHAR(10) NOT NULL,
    hour INTEGER NOT NULL,
    provider_name VARCHAR(50) NOT NULL,
    model_name VARCHAR(200) NOT NULL,
    api_key_id BIGINT NOT NULL,
    api_key_name VARCHAR(100) NOT NULL,
    requests BIGINT NOT NULL DEFAULT 0,
    successes BIGINT NOT NULL DEFAULT 0,
    errors BIGINT NOT NULL DEFAULT 0,
    timeouts BIGINT NOT NULL DEFAULT 0,
    cancelled BIGINT NOT NULL DEFAULT 0,
    rate_limited BIGINT NOT NULL DEFAULT 0,
    pending BIGINT NOT NULL DEFAULT 0,
    tokens BIGINT NOT NULL DEFAULT 0,
    prompt_tokens BIGINT NOT NULL DEFAULT 0,
    completion_tokens BIGINT NOT NULL DEFAULT 0,
    latency_count BIGINT NOT NULL DEFAULT 0,
    latency_sum_ms DOUBLE PRECISION NOT NULL DEFAULT 0,
    latency_min_ms DOUBLE PRECISION,
    latency_max_ms DOUBLE PRECISION,
    ttft_count BIGINT NOT NULL DEFAULT 0,
    ttft_sum_ms DOUBLE PRECISION NOT NULL DEFAULT 0,
    lat_b00 BIGINT NOT NULL DEFAULT 0,
    lat_b01 BIGINT NOT NULL DEFAULT 0,
    lat_b02 BIGINT NOT NULL DEFAULT 0,
    lat_b03 BIGINT NOT NULL DEFAULT 0,
    lat_b04 BIGINT NOT NULL DEFAULT 0,
    lat_b05 BIGINT NOT NULL DEFAULT 0,
    lat_b06 BIGINT NOT NULL DEFAULT 0,
    lat_b07 BIGINT NOT NULL DEFAULT 0,
    lat_b08 BIGINT NOT NULL DEFAULT 0,
    lat_b09 BIGINT NOT NULL DEFAULT 0,
    lat_b10 BIGINT NOT NULL DEFAULT 0,
    lat_b11 BIGINT NOT NULL DEFAULT 0,
    lat_b12 BIGINT NOT NULL DEFAULT 0,
    lat_b13 BIGINT NOT NULL DEFAULT 0,
    lat_b14 BIGINT NOT NULL DEFAULT 0,
    lat_b15 BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (date, hour, provider_name, model_name, api_key_id)
);

CREATE TABLE provider_daily_stats (
    date VARCHAR(10) NOT NULL,
    provider_name VARCHAR(50) NOT NULL,
    requests BIGINT NOT NULL DEFAULT 0,
    successes BIGINT NOT NULL DEFAULT 0,
    errors BIGINT NOT NULL DEFAULT 0,
    timeouts BIGINT NOT NULL DEFAULT 0,
    cancelled BIGINT NOT NULL DEFAULT 0,
    rate_limited BIGINT NOT NULL DEFAULT 0,
    pending BIGINT NOT NULL DEFAULT 0,
    tokens BIGINT NOT NULL DEFAULT 0,
    prompt_tokens BIGINT NOT NULL DEFAULT 0,
    completion_tokens BIGINT NOT NULL DEFAULT 0,
    latency_count BIGINT NOT NULL DEFAULT 0,
    latency_sum_ms DOUBLE PRECISION NOT NULL DEFAULT 0,
    latency_min_ms DOUBLE PRECISION,
    latency_max_ms DOUBLE PRECISION,
    ttft_count BIGINT NOT NULL DEFAULT 0,
    ttft_sum_ms DOUBLE PRECISION NOT NULL DEFAULT 0,
    lat_b00 BIGINT NOT NULL DEFAULT 0,
    lat_b01 BIGINT NOT NULL DEFAULT 0,
    lat_b02 BIGINT NOT NULL DEFAULT 0,
    lat_b03 BIGINT NOT NULL DEFAULT 0,
    lat_b04 BIGINT NOT NULL DEFAULT 0,
    lat_b05 BIGINT NOT NULL DEFAULT 0,
    lat_b06 BIGINT NOT NULL DEFAULT 0,
    lat_b07 BIGINT NOT NULL DEFAULT 0,
    lat_b08 BIGINT NOT NULL DEFAULT 0,
    lat_b09 BIGINT NOT NULL DEFAULT 0,
    lat_b10 BIGINT NOT NULL DEFAULT 0,
    lat_b11 BIGINT NOT NULL DEFAULT 0,
    lat_b12 BIGINT NOT NULL DEFAULT 0,
    lat_b13 BIGINT NOT NULL DEFAULT 0,
    lat_b14 BIGINT NOT NULL DEFAULT 0,
    lat_b15 BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (date, provider_name)
);

CREATE TABLE api_key_daily_stats (
    date VARCHAR(10) NOT NULL,
    api_key_id BIGINT NOT NULL,
    api_key_name VARCHAR(100) NOT NULL,
    requests BIGINT NOT NULL DEFAULT 0,
    successes BIGINT NOT NULL DEFAULT 0,
    errors BIGINT NOT NULL DEFAULT 0,
    timeouts BIGINT NOT NULL DEFAULT 0,
    cancelled BIGINT NOT NULL DEFAULT 0,
    rate_limited BIGINT NOT NULL DEFAULT 0,
    pending BIGINT NOT NULL DEFAULT 0,
    tokens BIGINT NOT NULL DEFAULT 0,
    prompt_tokens BIGINT NOT NULL DEFAULT 0,
    completion_tokens BIGINT NOT NULL DEFAULT 0,
    latency_count BIGINT NOT NULL DEFAULT 0,
    latency_sum_ms DOUBLE PRECISION NOT NULL DEFAULT 0,
    latency_min_ms DOUBLE PRECISION,
    latency_max_ms DOUBLE PRECISION,
    ttft_count BIGINT NOT NULL DEFAULT 0,
    ttft_sum_ms DOUBLE PRECISION NOT NULL DEFAULT 0,
    lat_b00 BIGINT NOT NULL DEFAULT 0,
    lat_b01 BIGINT NOT NULL DEFAULT 0,
    lat_b02 BIGINT NOT NULL DEFAULT 0,
    lat_b03 BIGINT NOT NULL DEFAULT 0,
    lat_b04 BIGINT NOT NULL DEFAULT 0,
    lat_b05 BIGINT NOT NULL DEFAULT 0,
    lat_b06 BIGINT NOT NULL DEFAULT 0,
    lat_b07 BIGINT NOT NULL DEFAULT 0,
    lat_b08 BIGINT NOT NULL DEFAULT 0,
    lat_b09 BIGINT NOT NULL DEFAULT 0,
    lat_b10 BIGINT NOT NULL DEFAULT 0,
    lat_b11 BIGINT NOT NULL DEFAULT 0,
    lat_b12 BIGINT NOT NULL DEFAULT 0,
    lat_b13 BIGINT NOT NULL DEFAULT 0,
    lat_b14 BIGINT NOT NULL DEFAULT 0,
    lat_b15 BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (date, api_key_id)
);

CREATE TABLE model_daily_stats (
    date VARCHAR(10) NOT NULL,
    model_name VARCHAR(200) NOT NULL,
    provider_name VARCHAR(50) NOT NULL,
    requests BIGINT NOT NULL DEFAULT 0,
    successes BIGINT NOT NULL DEFAULT 0,
    errors BIGINT NOT NULL DEFAULT 0,
    timeouts BIGINT NOT NULL DEFAULT 0,
    cancelled BIGINT NOT NULL DEFAULT 0,
    rate_limited BIGINT NOT NULL DEFAULT 0,
    pending BIGINT NOT NULL DEFAULT 0,
    tokens BIGINT NOT NULL DEFAULT 0,
    prompt_tokens BIGINT NOT NULL DEFAULT 0,
    completion_tokens BIGINT NOT NULL DEFAULT 0,
    latency_count BIGINT NOT NULL DEFAULT 0,
    latency_sum_ms DOUBLE PRECISION NOT NULL DEFAULT 0,
    latency_min_ms DOUBLE PRECISION,
    latency_max_ms DOUBLE PRECISION,
    ttft_count BIGINT NOT NULL DEFAULT 0,
    ttft_sum_ms DOUBLE PRECISION NOT NULL DEFAULT 0,
    lat_b00 BIGINT NOT NULL DEFAULT 0,
    lat_b01 BIGINT NOT NULL DEFAULT 0,
    lat_b02 BIGINT NOT NULL DEFAULT 0,
    lat_b03 BIGINT NOT NULL DEFAULT 0,
    lat_b04 BIGINT NOT NULL DEFAULT 0,
    lat_b05 BIGINT NOT NULL DEFAULT 0,
    lat_b06 BIGINT NOT NULL DEFAULT 0,
    lat_b07 BIGINT NOT NULL DEFAULT 0,
    lat_b08 BIGINT NOT NULL DEFAULT 0,
    lat_b09 BIGINT NOT NULL DEFAULT 0,
    lat_b10 BIGINT NOT NULL DEFAULT 0,
    lat_b11 BIGINT NOT NULL DEFAULT 0,
    lat_b12 BIGINT NOT NULL DEFAULT 0,
    lat_b13 BIGINT NOT NULL DEFAULT 0,
    lat_b14 BIGINT NOT NULL DEFAULT 0,
    lat_b15 BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (date, model_name, provider_name)
);

CREATE TABLE api_key_model_daily_stats (
    date VARCHAR(10) NOT NULL,
    api_key_id BIGINT NOT NULL,
    api_key_name VARCHAR(100) NOT NULL,
    model_name VARCHAR(200) NOT NULL,
    requests BIGINT NOT NULL DEFAULT 0,
    successes BIGINT NOT NULL DEFAULT 0,
    errors BIGINT NOT NULL DEFAULT 0,
    timeouts BIGINT NOT NULL DEFAULT 0,
    cancelled BIGINT NOT NULL DEFAULT 0,
    rate_limited BIGINT NOT NULL DEFAULT 0,
    pending BIGINT NOT NULL DEFAULT 0,
    tokens BIGINT NOT NULL DEFAULT 0,
    prompt_tokens BIGINT NOT NULL DEFAULT 0,
    completion_tokens BIGINT NOT NULL DEFAULT 0,
    latency_count BIGINT NOT NULL DEFAULT 0,
    latency_sum_ms DOUBLE PRECISION NOT NULL DEFAULT 0,
    latency_min_ms DOUBLE PRECISION,
    latency_max_ms DOUBLE PRECISION,
    ttft_count BIGINT NOT NULL DEFAULT 0,
    ttft_sum_ms DOUBLE PRECISION NOT NULL DEFAULT 0,
    lat_b00 BIGINT NOT NULL DEFAULT 0,
    lat_b01 BIGINT NOT NULL DEFAULT 0,
    lat_b02 BIGINT NOT NULL DEFAULT 0,
    lat_b03 BIGINT NOT NULL DEFAULT 0,
    lat_b04 BIGINT NOT NULL DEFAULT 0,
    lat_b05 BIGINT NOT NULL DEFAULT 0,
    lat_b06 BIGINT NOT NULL DEFAULT 0,
    lat_b07 BIGINT NOT NULL DEFAULT 0,
    lat_b08 BIGINT NOT NULL DEFAULT 0,
    lat_b09 BIGINT NOT NULL DEFAULT 0,
    lat_b10 BIGINT NOT NULL DEFAULT 0,
    lat_b11 BIGINT NOT NULL DEFAULT 0,
    lat_b12 BIGINT NOT NULL DEFAULT 0,
    lat_b13 BIGINT NOT NULL DEFAULT 0,
    lat_b14 BIGINT NOT NULL DEFAULT 0,
    lat_b15 BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (date, api_key_id, model_name)
);

-- A key's newest calls (/admin/api/keys/{id}/logs, the portal) without sorting
-- all of them; it replaces the index on api_key_id alone.
CREATE INDEX idx_request_logs_key_created ON request_logs (api_key_id, created_at);
CREATE INDEX idx_request_logs_history_key ON request_logs_history (api_key_id, created_at);
CREATE INDEX idx_request_logs_history_status ON request_logs_history (status);
-- The logs query's key_name filter: the exact name over a time range.
CREATE INDEX idx_request_logs_key_name ON request_logs (api_key_name, created_at);
CREATE INDEX idx_request_logs_history_key_name ON request_logs_history (api_key_name, created_at);
-- One key's hourly rows over a period (its model recommendations).
CREATE INDEX idx_hourly_stats_key ON hourly_stats (api_key_id, date);

-- The versions of each feature plugin's own migrations applied to this
-- database (the SDK's migrate service).
CREATE TABLE plugin_migrations (
    plugin_id VARCHAR(48) NOT NULL,
    version INTEGER NOT NULL,
    name VARCHAR(200) NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (plugin_id, version)
);

-- Feature plugins' one-shot background tasks (the SDK's task service): input,
-- progress and result are JSON text. At most one task per plugin, kind and
-- dedupe key runs at a time across all instances (the partial unique index); a
-- running task whose instance stopped refreshing heartbeat_at is abandoned.
CREATE TABLE plugin_tasks (
    id BIGSERIAL PRIMARY KEY,
    plugin_id VARCHAR(48) NOT NULL,
    kind VARCHAR(64) NOT NULL,
    dedupe_key VARCHAR(200) NOT NULL,
    status VARCHAR(16) NOT NULL,
    input TEXT NOT NULL DEFAULT '{}',
    progress TEXT NOT NULL DEFAULT '{}',
    result TEXT,
    error TEXT,
    instance_id VARCHAR(100) NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    heartbeat_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX idx_plugin_tasks_running ON plugin_tasks (plugin_id, kind, dedupe_key)
    WHERE status = 'running';
CREATE INDEX idx_plugin_tasks_kind ON plugin_tasks (plugin_id, kind, id);
