-- SQLite twin of postgresql/0002_provider_keys_settings.sql.
CREATE TABLE provider_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    provider_id INTEGER NOT NULL REFERENCES providers(id) ON DELETE CASCADE,
    label TEXT NOT NULL DEFAULT '',
    api_key_sealed TEXT NOT NULL,
    api_key_hint TEXT NOT NULL DEFAULT '',
    key_hash TEXT NOT NULL,
    max_concurrency INTEGER,
    is_active INTEGER NOT NULL DEFAULT 1,
    paused_until TEXT,
    pause_reason TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (provider_id, key_hash)
);
CREATE INDEX idx_provider_keys_provider ON provider_keys (provider_id);

ALTER TABLE providers ADD COLUMN paused_until TEXT;
ALTER TABLE providers ADD COLUMN pause_reason TEXT;

CREATE TABLE system_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
