-- What each core table's last validation read (models/validation/reuse.py): a run in which
-- none of it changed takes that validation's results instead of running the suite again.
CREATE TABLE IF NOT EXISTS raw.validation_builds (
    table_name VARCHAR NOT NULL,
    fingerprint VARCHAR NOT NULL,
    as_of DATE NOT NULL,
    run_id VARCHAR NOT NULL
);
