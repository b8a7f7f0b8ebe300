-- Every row read for one table, flagged when it was quarantined for a broken reference;
-- __row is the raw row's place (failing rows are sampled in raw order).
-- {table} is a contract table name (checked against the contract by the caller).
SELECT
    r._source_file,
    r._source_row,
    q.source_row IS NOT NULL AS reference_failed,
    r.rowid AS __row
FROM raw.{table} AS r
LEFT JOIN (
    SELECT DISTINCT source_file, source_row
    FROM quarantine.rejected_rows
    WHERE table_name = '{table}' AND rule = 'reference'
) AS q ON q.source_file = r._source_file AND q.source_row = r._source_row
