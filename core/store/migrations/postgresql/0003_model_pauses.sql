-- Cool-downs per (upstream key, model): a rate limit pauses one model on one key,
-- not the key. key_id 0 is the keyless slot of a provider without keys (no
-- foreign key for that reason). strikes counts refusals in a row; length_ms is
-- the last pause's length, which a refused probe doubles. A success deletes the row.
CREATE TABLE provider_key_model_pauses (
    provider_id BIGINT NOT NULL REFERENCES providers(id) ON DELETE CASCADE,
    key_id BIGINT NOT NULL,
    model VARCHAR(200) NOT NULL,
    paused_until TIMESTAMPTZ NOT NULL,
    reason VARCHAR(255),
    strikes INTEGER NOT NULL DEFAULT 1,
    length_ms BIGINT NOT NULL DEFAULT 0,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (provider_id, key_id, model)
);
