-- Headline numbers per program and calendar quarter (plus period 'all' and program_id NULL
-- for all programs): what the HR dashboard shows at the top.
-- Parameters: $as_of (DATE), $k (smallest group whose medians and shares are shown).
-- match_rate: of the mentees enrolled in the cell's period, the share that have a match made on
-- or before $as_of (in whatever program or quarter).
WITH mentees AS (
    SELECT participant_id, program_id, enrolled_on FROM core.participants WHERE role = 'mentee'
),
matched AS (
    SELECT s.program_id, s.mentee_id, s.matched_on, s.days_to_first_meeting, s.lasting,
           s.lasting_window_closed, m.ended_on,
           s.matched_on - e.enrolled_on AS days_to_match
    FROM metrics.match_steps AS s
    JOIN core.matches AS m USING (match_id)
    LEFT JOIN mentees AS e ON e.participant_id = s.mentee_id
),
quarters AS (
    SELECT DISTINCT date_trunc('quarter', d)::DATE AS q_start
    FROM (SELECT matched_on AS d FROM matched UNION ALL SELECT enrolled_on FROM mentees)
    WHERE d <= $as_of
),
periods AS (
    SELECT year(q_start) || 'Q' || quarter(q_start) AS period, q_start,
           least((q_start + INTERVAL 3 MONTH - INTERVAL 1 DAY)::DATE, $as_of) AS q_end
    FROM quarters
    UNION ALL
    SELECT 'all', DATE '1900-01-01', $as_of
),
programs AS (
    SELECT program_id FROM core.programs UNION ALL SELECT NULL
),
cells AS (
    SELECT p.program_id, q.period, q.q_start, q.q_end FROM programs AS p CROSS JOIN periods AS q
),
enrolled AS (
    SELECT c.program_id, c.period, count(DISTINCT e.participant_id) AS enrolled
    FROM cells AS c
    LEFT JOIN mentees AS e
      ON (c.program_id IS NULL OR e.program_id = c.program_id)
     AND e.enrolled_on BETWEEN c.q_start AND c.q_end
    GROUP BY ALL
),
-- A mentee who has had a match by the as-of date.
matched_mentee AS (
    SELECT * FROM mentees
    WHERE participant_id IN (SELECT mentee_id FROM matched WHERE matched_on <= $as_of)
),
took AS (
    SELECT c.program_id, c.period, count(DISTINCT e.participant_id) AS matched_mentees
    FROM cells AS c
    LEFT JOIN matched_mentee AS e
      ON (c.program_id IS NULL OR e.program_id = c.program_id)
     AND e.enrolled_on BETWEEN c.q_start AND c.q_end
    GROUP BY ALL
),
made AS (
    SELECT c.program_id, c.period,
           count(m.matched_on) AS matched,
           median(m.days_to_match) AS median_days_to_match,
           median(m.days_to_first_meeting) AS median_days_to_first_meeting,
           sum(CASE WHEN m.lasting_window_closed THEN m.lasting::INT END)
               / count(CASE WHEN m.lasting_window_closed THEN 1 END) AS lasting_share,
           count(CASE WHEN m.lasting_window_closed THEN 1 END) AS lasting_judged
    FROM cells AS c
    LEFT JOIN matched AS m
      ON (c.program_id IS NULL OR m.program_id = c.program_id)
     AND m.matched_on BETWEEN c.q_start AND c.q_end
    GROUP BY ALL
),
active AS (
    SELECT c.program_id, c.period, count(m.matched_on) AS active_matches
    FROM cells AS c
    LEFT JOIN matched AS m
      ON (c.program_id IS NULL OR m.program_id = c.program_id)
     AND m.matched_on <= c.q_end AND (m.ended_on IS NULL OR m.ended_on > c.q_end)
    GROUP BY ALL
)
SELECT
    e.program_id,
    e.period,
    e.enrolled,
    d.matched,
    t.matched_mentees,
    CASE WHEN e.enrolled >= $k THEN t.matched_mentees / e.enrolled END AS match_rate,
    CASE WHEN d.matched >= $k THEN d.median_days_to_match END AS median_days_to_match,
    CASE WHEN d.matched >= $k THEN d.median_days_to_first_meeting END
        AS median_days_to_first_meeting,
    a.active_matches,
    CASE WHEN d.lasting_judged >= $k THEN d.lasting_share END AS lasting_share,
    d.matched - d.lasting_judged AS lasting_too_early
FROM enrolled AS e
-- program_id NULL is the all-programs row: join it with IS NOT DISTINCT FROM.
JOIN made AS d ON d.program_id IS NOT DISTINCT FROM e.program_id AND d.period = e.period
JOIN active AS a ON a.program_id IS NOT DISTINCT FROM e.program_id AND a.period = e.period
JOIN took AS t ON t.program_id IS NOT DISTINCT FROM e.program_id AND t.period = e.period
ORDER BY e.program_id NULLS FIRST, e.period
