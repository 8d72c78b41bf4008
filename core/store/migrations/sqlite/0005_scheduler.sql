-- SQLite twin of postgresql/0005_scheduler.sql.
CREATE TABLE scheduler_tasks (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    schedule TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE scheduler_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_name TEXT NOT NULL,
    slot TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    trigger_kind TEXT NOT NULL,
    started_at TEXT NOT NULL,
    heartbeat_at TEXT NOT NULL,
    finished_at TEXT,
    outcome TEXT NOT NULL,
    rows_touched INTEGER NOT NULL DEFAULT 0,
    summary TEXT NOT NULL DEFAULT '',
    error TEXT,
    UNIQUE (task_name, slot)
);
CREATE INDEX idx_scheduler_runs_task ON scheduler_runs (task_name, id);
CREATE INDEX idx_scheduler_runs_started ON scheduler_runs (started_at);

DROP TABLE scheduler_leases;
