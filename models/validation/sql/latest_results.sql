-- Per table, the expectation results of the most recent run that validated it.
WITH latest AS (
    SELECT table_name, arg_max(run_id, checked_at) AS run_id
    FROM metrics.expectation_results
    GROUP BY table_name
)
SELECT e.*
FROM metrics.expectation_results AS e
JOIN latest USING (table_name, run_id)
ORDER BY e.table_name, e.rule, e.column_name
