-- Job texts in the reader's language: a run's summary is recorded in English
-- and, when the job gave one, as a catalog key with its values (a JSON object
-- of strings), so the admin API can say it in the language of whoever reads it.
ALTER TABLE scheduler_runs ADD COLUMN summary_key VARCHAR(100) NOT NULL DEFAULT '';
ALTER TABLE scheduler_runs ADD COLUMN summary_args TEXT NOT NULL DEFAULT '{}';
