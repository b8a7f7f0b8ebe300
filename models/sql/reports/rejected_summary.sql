-- Quarantined rows per table, file and rule, with one example reason: the data-quality
-- report's "top rules" table. Reports carry no ids, names or free text: every quoted value
-- and the key values of a duplicate key are masked (the file and row in the reason still
-- lead the evaluator to the row; quarantine.rejected_rows has it whole).
SELECT
    table_name,
    source_file,
    rule,
    count(*) AS n,
    regexp_replace(
        regexp_replace(min(reason), '''[^'']*''', '''…''', 'g'),
        '\) = \([^)]*\)', ') = (…)', 'g'
    ) AS example_reason
FROM quarantine.rejected_rows
GROUP BY ALL
ORDER BY n DESC, table_name, source_file, rule
