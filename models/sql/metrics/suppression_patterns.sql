-- The suppression pattern each breakdown family got in the last run (models/metrics/patterns.py,
-- models/disclosure/memo.py): a run whose family table is unchanged takes it back instead of
-- auditing again. Bookkeeping, like raw.core_builds: no counts, never published.
CREATE SCHEMA IF NOT EXISTS raw;
CREATE TABLE IF NOT EXISTS raw.suppression_patterns (
    pattern_key VARCHAR NOT NULL,
    cells BIGINT NOT NULL,
    bits BLOB NOT NULL,
    saved_at TIMESTAMP NOT NULL
);
