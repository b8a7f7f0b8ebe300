-- What each kept derived table was last computed from (models/metrics/derived_builds.py).
CREATE TABLE IF NOT EXISTS raw.derived_builds (
    table_name VARCHAR NOT NULL,
    fingerprint VARCHAR NOT NULL,
    built_at TIMESTAMP
);
