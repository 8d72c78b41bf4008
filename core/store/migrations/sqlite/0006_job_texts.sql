-- SQLite twin of postgresql/0006_job_texts.sql.
ALTER TABLE scheduler_runs ADD COLUMN summary_key TEXT NOT NULL DEFAULT '';
ALTER TABLE scheduler_runs ADD COLUMN summary_args TEXT NOT NULL DEFAULT '{}';
