-- metrics.data_quality: per table and source file, rows read = kept + quarantined + duplicates.
-- {read_union} and {kept_union} are filled per contract table by models/quality/reconciliation.py.
WITH read AS (
    {read_union}
), kept AS (
    {kept_union}
), quarantined AS (
    SELECT table_name, source_file, count(*) AS n FROM quarantine.rejected_rows
    GROUP BY ALL
), duplicates AS (
    SELECT table_name, source_file, count(*) AS n FROM quarantine.duplicate_rows
    GROUP BY ALL
)
SELECT
    r.table_name,
    r.source_file,
    r.n AS rows_read,
    coalesce(k.n, 0) AS rows_kept,
    coalesce(q.n, 0) AS rows_quarantined,
    coalesce(d.n, 0) AS rows_duplicate,
    r.n = coalesce(k.n, 0) + coalesce(q.n, 0) + coalesce(d.n, 0) AS reconciled
FROM read AS r
LEFT JOIN kept AS k USING (table_name, source_file)
LEFT JOIN quarantined AS q USING (table_name, source_file)
LEFT JOIN duplicates AS d USING (table_name, source_file)
ORDER BY r.table_name, r.source_file
