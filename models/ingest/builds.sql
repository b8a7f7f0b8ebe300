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
-- What the last build read, part by part, so that a run that only adds files (and moves the
-- as-of date on) can check the new rows alone (models/ingest/append.py). Added after the
-- table above existed: older warehouses gain the columns on their next run.
ALTER TABLE raw.core_builds ADD COLUMN IF NOT EXISTS inputs VARCHAR;  -- JSON: code, files, parents
ALTER TABLE raw.core_builds ADD COLUMN IF NOT EXISTS appended_from VARCHAR;  -- run id it grew from
