-- The scheduler you can see (docs/operations.md#scheduled-jobs). Jobs are
-- registered in code at start; scheduler_tasks keeps what an admin changes (the
-- enabled switch), shared by every instance. scheduler_runs records every run.
-- An instance claims a scheduled run by inserting its (task_name, slot) row:
-- the unique key lets exactly one instance have each slot. slot is the run's
-- due time (ISO 8601 UTC) or 'manual:<hex>' for a run an admin started.
-- heartbeat_at is refreshed while a run is in progress; a 'running' row whose
-- heartbeat is two minutes old was left by a stopped instance and becomes
-- 'abandoned'. This replaces the lease table.
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
    UNIQUE (task_name, slot)
);
CREATE INDEX idx_scheduler_runs_task ON scheduler_runs (task_name, id);
CREATE INDEX idx_scheduler_runs_started ON scheduler_runs (started_at);

DROP TABLE scheduler_leases;
