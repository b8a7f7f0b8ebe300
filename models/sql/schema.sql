-- Warehouse layout (data-contract.md, "Output: the DuckDB warehouse").
-- Idempotent: every run starts by applying it.
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS quarantine;
CREATE SCHEMA IF NOT EXISTS restricted;
CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS metrics;

-- One row per input row that did not reach core, with the first rule it broke.
CREATE TABLE IF NOT EXISTS quarantine.rejected_rows (
    table_name VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    source_row BIGINT NOT NULL,
    rule VARCHAR NOT NULL,
    column_name VARCHAR,
    reason VARCHAR NOT NULL,
    row_json VARCHAR,
    run_id VARCHAR
);

-- Exact copies of an earlier row of the same table: dropped from core, counted here.
CREATE TABLE IF NOT EXISTS quarantine.duplicate_rows (
    table_name VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    source_row BIGINT NOT NULL,
    run_id VARCHAR
);

-- The files each run landed, with their hashes: what a result was built from.
CREATE TABLE IF NOT EXISTS raw.file_ledger (
    table_name VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    file_sha256 VARCHAR NOT NULL,
    rows_read BIGINT NOT NULL,
    loaded_at TIMESTAMP NOT NULL,
    run_id VARCHAR
);

-- One row per expectation per validation run (models/validation), appended and never replaced,
-- so quality over time is queryable. severity: error (blocking) or warn.
CREATE TABLE IF NOT EXISTS metrics.expectation_results (
    run_id VARCHAR NOT NULL,
    table_name VARCHAR NOT NULL,
    rule VARCHAR NOT NULL,
    expectation VARCHAR NOT NULL,
    column_name VARCHAR,
    success BOOLEAN NOT NULL,
    observed VARCHAR,
    unexpected_count BIGINT,
    unexpected_sample VARCHAR,
    severity VARCHAR NOT NULL,
    message VARCHAR,
    row_count BIGINT,
    checked_at TIMESTAMP NOT NULL
);
