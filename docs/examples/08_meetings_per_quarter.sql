-- Meeting activity per program and calendar quarter: held and missed meetings, median length
-- and the in-person share of held meetings. Meetings join matches on the pseudonymised match_id.
SELECT
    m.program_id,
    year(mt.started_at) || 'Q' || quarter(mt.started_at) AS quarter,
    count(*) FILTER (WHERE mt.status = 'held') AS held,
    count(*) FILTER (WHERE mt.status <> 'held') AS cancelled_or_no_show,
    median(mt.duration_min) FILTER (WHERE mt.status = 'held') AS median_minutes,
    round(avg(CASE WHEN mt.mode = 'in_person' THEN 1 ELSE 0 END)
          FILTER (WHERE mt.status = 'held'), 3) AS in_person_share
FROM core.meetings AS mt
JOIN core.matches AS m USING (match_id)
GROUP BY ALL
ORDER BY m.program_id, quarter;
