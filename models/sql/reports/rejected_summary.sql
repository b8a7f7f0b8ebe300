-- Quarantined rows per table, file and rule, with one example reason: the data-quality
-- report's "top rules" table. Reports carry no ids, names or free text: the key values of a
-- duplicate key are masked here, and every quoted value that could identify someone is masked
-- by the report (models/reporting/data_quality.py, mask_ids), which shows the harmless ones
-- ('startup' is not a setting) so the evaluator sees what to fix. The file and row in the
-- reason lead to the row; quarantine.rejected_rows has it whole.
SELECT
    table_name,
    source_file,
    rule,
    count(*) AS n,
    regexp_replace(min(reason), '\) = \([^)]*\)', ') = (…)', 'g') AS example_reason
FROM quarantine.rejected_rows
GROUP BY ALL
ORDER BY n DESC, table_name, source_file, rule
