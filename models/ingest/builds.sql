-- What each core table was last built from (models/ingest/builds.py): a run whose inputs are
-- the same keeps the table instead of checking every row again.
CREATE TABLE IF NOT EXISTS raw.core_builds (
    table_name VARCHAR NOT NULL,
    fingerprint VARCHAR NOT NULL,
    as_of DATE NOT NULL,
    future_rejections BIGINT NOT NULL,
    run_id VARCHAR,
    built_at TIMESTAMP
);
