-- SQLite twin of postgresql/0003_model_pauses.sql.
CREATE TABLE provider_key_model_pauses (
    provider_id INTEGER NOT NULL REFERENCES providers(id) ON DELETE CASCADE,
    key_id INTEGER NOT NULL,
    model TEXT NOT NULL,
    paused_until TEXT NOT NULL,
    reason TEXT,
    strikes INTEGER NOT NULL DEFAULT 1,
    length_ms INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (provider_id, key_id, model)
);
