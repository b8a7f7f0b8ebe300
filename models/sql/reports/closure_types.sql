-- Ended matches per program (and for all programs, program_id NULL) by closure type: the
-- "How relationships ended" chart of the dashboard. Counts only: no match leaves DuckDB.
-- Parameters: $k (suppression threshold).
-- A count below $k is not shown, and neither is the rest of its program's row: the program's
-- number of endings is published (metrics.survival, events), so one hidden type could be
-- worked out from it. When exactly one program's row is hidden, the all-programs row is hidden
-- too: it would give that program's counts away by subtraction.
WITH cells AS (
    SELECT
        program_id,
        coalesce(closure_type, 'unknown') AS closure_type,
        count(*) AS n,
        grouping(program_id) = 1 AS overall
    FROM metrics.match_duration
    WHERE ended
    GROUP BY GROUPING SETS ((program_id, coalesce(closure_type, 'unknown')),
                            (coalesce(closure_type, 'unknown')))
),
row_small AS (
    SELECT program_id, overall, min(n) < $k AS small
    FROM cells
    GROUP BY program_id, overall
),
hidden_programs AS (
    SELECT count(*) FILTER (WHERE small AND NOT overall) AS n FROM row_small
),
decided AS (
    SELECT
        c.program_id,
        c.closure_type,
        c.n,
        r.small OR (c.overall AND h.n = 1) AS suppressed
    FROM cells AS c
    JOIN row_small AS r ON r.overall = c.overall AND r.program_id IS NOT DISTINCT FROM c.program_id
    CROSS JOIN hidden_programs AS h
)
SELECT
    program_id,
    closure_type,
    CASE WHEN NOT suppressed AND n >= $k THEN n END AS ended_matches,
    suppressed OR n < $k AS suppressed
FROM decided
ORDER BY program_id NULLS FIRST, closure_type
