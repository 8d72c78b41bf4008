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
