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

-- A provider without keys (or with all of them exhausted) can be paused as a whole.
ALTER TABLE providers ADD COLUMN paused_until TIMESTAMPTZ;
ALTER TABLE providers ADD COLUMN pause_reason VARCHAR(255);

-- Gateway-wide settings (outbound User-Agent, ...), edited through the admin API.
CREATE TABLE system_settings (
    key VARCHAR(100) PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
