-- The table's row count in the most recent other run whose row-count check passed.
SELECT row_count
FROM metrics.expectation_results
WHERE table_name = $table_name
    AND rule = 'row_count_drop'
    AND success
    AND run_id <> $run_id
    AND row_count IS NOT NULL
ORDER BY checked_at DESC
LIMIT 1
