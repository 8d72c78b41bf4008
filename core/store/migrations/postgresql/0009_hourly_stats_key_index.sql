-- One key's hourly rows over a period (its model recommendations and the
-- portal's figures) without reading every key's rows of those days.
CREATE INDEX idx_hourly_stats_key ON hourly_stats (api_key_id, date);
