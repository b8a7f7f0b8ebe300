-- Held meetings per program and month (and for all programs, program_id NULL), with the
-- in-person share: the engagement-over-time chart of the dashboard.
-- Parameters: $as_of (DATE), $k (months with fewer held meetings show no share).
SELECT
    m.program_id,
    date_trunc('month', g.started_at)::DATE AS month,
    count(*) AS held_meetings,
    CASE WHEN count(*) >= $k THEN avg((g.mode = 'in_person')::INT) END AS in_person_share
FROM core.meetings AS g
JOIN core.matches AS m USING (match_id)
WHERE g.status = 'held' AND g.started_at::DATE <= $as_of
GROUP BY GROUPING SETS ((m.program_id, month), (month))
ORDER BY m.program_id NULLS FIRST, month
