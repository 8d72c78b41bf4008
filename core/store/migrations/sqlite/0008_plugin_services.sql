-- SQLite twin of postgresql/0008_plugin_services.sql.
CREATE TABLE plugin_migrations (
    plugin_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (plugin_id, version)
);

CREATE TABLE plugin_tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    plugin_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    dedupe_key TEXT NOT NULL,
    status TEXT NOT NULL,
    input TEXT NOT NULL DEFAULT '{}',
    progress TEXT NOT NULL DEFAULT '{}',
    result TEXT,
    error TEXT,
    instance_id TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    heartbeat_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    finished_at TEXT
);
CREATE UNIQUE INDEX idx_plugin_tasks_running ON plugin_tasks (plugin_id, kind, dedupe_key)
    WHERE status = 'running';
CREATE INDEX idx_plugin_tasks_kind ON plugin_tasks (plugin_id, kind, id);
