-- Does meeting in person first go with lasting relationships? Share of matches lasting 180+
-- days (settings lasting_days) by the mode of the first held meeting, per program. Only
-- matches whose lasting window closed: a match that met last month cannot have lasted yet.
SELECT
    program_id,
    CASE WHEN first_meeting_in_person THEN 'in person' ELSE 'remote' END AS first_meeting,
    count(*) AS matches,
    round(avg(CASE WHEN lasting THEN 1 ELSE 0 END), 3) AS lasting_share,
    round(avg(cycles), 2) AS mean_cycles
FROM metrics.match_steps
WHERE s3_calendar AND lasting_window_closed
GROUP BY ALL
HAVING count(*) >= 10
ORDER BY program_id, first_meeting;
