-- Quarantined rows per table, file and rule, with one example reason: the data-quality
-- report's "top rules" table. Reasons quote the offending value, never a restricted column.
SELECT table_name, source_file, rule, count(*) AS n, min(reason) AS example_reason
FROM quarantine.rejected_rows
GROUP BY ALL
ORDER BY n DESC, table_name, source_file, rule
