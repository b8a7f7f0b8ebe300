-- Columns incremental landing adds to raw.file_ledger (models/ingest/ledger.py): the program
-- folder a file came from and the fingerprint that decides whether it must be read again.
ALTER TABLE raw.file_ledger ADD COLUMN IF NOT EXISTS program VARCHAR;
ALTER TABLE raw.file_ledger ADD COLUMN IF NOT EXISTS fingerprint VARCHAR;
