-- Headline numbers per program and calendar quarter (plus period 'all' and program_id NULL
-- for all programs): what the HR dashboard shows at the top.
-- Parameters: $as_of (DATE), $k (smallest group whose medians and shares are shown).
--
-- Same result as models/sql/reports/headlines.sql, which it replaces: that query joined every
-- (program, period) cell to every mentee and match with `program_id = cell OR cell IS NULL`, a
-- join DuckDB can only run as a nested loop, so its cost grew with programs x people (39 s at
-- 300 programs, an hour at 3,000). Here each person or match is joined to the few periods it
-- falls in, counted per program and for all programs separately, and the counts are attached
-- to the cells by key: linear in people. The suppression rules (the CASE WHEN $k below) are
-- unchanged.
--
-- match_rate is a share of mentees, in [0, 1] by construction: of the mentees enrolled in the
-- period (enrolled_on in the quarter; for 'all', any day up to $as_of), those with at least one
-- match (any program) made on or before $as_of (matched_mentees), over those enrolled
-- (enrolled). It is not matches / enrolled: `matched` counts matches made in the period, which
-- can be several per mentee and be matches of mentees who enrolled earlier (issue 17: 266 %).
-- participant_id is the key of core.participants, so these counts are of distinct mentees.
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
    SELECT p.program_id, q.period FROM programs AS p CROSS JOIN periods AS q
),
-- The mentees with at least one match made by the as-of date, whenever they enrolled.
matched_by_as_of AS (
    SELECT DISTINCT mentee_id FROM matched WHERE matched_on <= $as_of
),
-- Each mentee and match with the periods it counts in (its quarter and 'all'); a mentee is
-- flagged when matched by the as-of date, even if the match came in a later quarter.
enrolled_in AS (
    SELECT e.program_id, q.period, e.participant_id,
           x.mentee_id IS NOT NULL AS matched_by_as_of
    FROM mentees AS e
    JOIN periods AS q ON e.enrolled_on BETWEEN q.q_start AND q.q_end
    LEFT JOIN matched_by_as_of AS x ON x.mentee_id = e.participant_id
),
made_in AS (
    SELECT m.*, q.period
    FROM matched AS m JOIN periods AS q ON m.matched_on BETWEEN q.q_start AND q.q_end
),
active_in AS (
    SELECT m.program_id, q.period, m.matched_on
    FROM matched AS m JOIN periods AS q
      ON m.matched_on <= q.q_end AND (m.ended_on IS NULL OR m.ended_on > q.q_end)
),
-- Per program (rows without a program count only towards all programs, as before) ...
enrolled_by_program AS (
    SELECT program_id, period, count(participant_id) AS enrolled,
           count(participant_id) FILTER (WHERE matched_by_as_of) AS matched_mentees
    FROM enrolled_in WHERE program_id IS NOT NULL GROUP BY ALL
),
made_by_program AS (
    SELECT program_id, period,
           count(matched_on) AS matched,
           median(days_to_match) AS median_days_to_match,
           median(days_to_first_meeting) AS median_days_to_first_meeting,
           -- lasting is judged only where its window closed: the rest are too early to tell
           avg(lasting::INT) FILTER (WHERE lasting_window_closed) AS lasting_share,
           count(*) FILTER (WHERE lasting_window_closed) AS lasting_judged
    FROM made_in WHERE program_id IS NOT NULL GROUP BY ALL
),
active_by_program AS (
    SELECT program_id, period, count(matched_on) AS active_matches
    FROM active_in WHERE program_id IS NOT NULL GROUP BY ALL
),
-- ... and for all programs together: the program_id NULL cells.
enrolled_all AS (
    SELECT NULL::VARCHAR AS program_id, period, count(participant_id) AS enrolled,
           count(participant_id) FILTER (WHERE matched_by_as_of) AS matched_mentees
    FROM enrolled_in GROUP BY ALL
),
made_all AS (
    SELECT NULL::VARCHAR AS program_id, period,
           count(matched_on) AS matched,
           median(days_to_match) AS median_days_to_match,
           median(days_to_first_meeting) AS median_days_to_first_meeting,
           avg(lasting::INT) FILTER (WHERE lasting_window_closed) AS lasting_share,
           count(*) FILTER (WHERE lasting_window_closed) AS lasting_judged
    FROM made_in GROUP BY ALL
),
active_all AS (
    SELECT NULL::VARCHAR AS program_id, period, count(matched_on) AS active_matches
    FROM active_in GROUP BY ALL
),
enrolled AS (SELECT * FROM enrolled_by_program UNION ALL SELECT * FROM enrolled_all),
made AS (SELECT * FROM made_by_program UNION ALL SELECT * FROM made_all),
active AS (SELECT * FROM active_by_program UNION ALL SELECT * FROM active_all),
counted AS (
    -- A cell with nobody in it counts 0, as a count over an empty join does; its medians and
    -- shares stay NULL.
    SELECT c.program_id, c.period,
           coalesce(e.enrolled, 0) AS enrolled,
           coalesce(d.matched, 0) AS matched,
           coalesce(e.matched_mentees, 0) AS matched_mentees,
           d.median_days_to_match, d.median_days_to_first_meeting, d.lasting_share,
           coalesce(d.lasting_judged, 0) AS lasting_judged,
           coalesce(a.active_matches, 0) AS active_matches
    FROM cells AS c
    -- program_id NULL is the all-programs row: join it with IS NOT DISTINCT FROM.
    LEFT JOIN enrolled AS e
      ON e.program_id IS NOT DISTINCT FROM c.program_id AND e.period = c.period
    LEFT JOIN made AS d
      ON d.program_id IS NOT DISTINCT FROM c.program_id AND d.period = c.period
    LEFT JOIN active AS a
      ON a.program_id IS NOT DISTINCT FROM c.program_id AND a.period = c.period
)
SELECT
    program_id,
    period,
    enrolled,
    matched,
    matched_mentees,
    -- The share of the period's enrolled mentees matched by the as-of date (never above 1).
    CASE WHEN enrolled >= $k THEN matched_mentees / enrolled END AS match_rate,
    CASE WHEN matched >= $k THEN median_days_to_match END AS median_days_to_match,
    CASE WHEN matched >= $k THEN median_days_to_first_meeting END
        AS median_days_to_first_meeting,
    active_matches,
    CASE WHEN lasting_judged >= $k THEN lasting_share END AS lasting_share,
    -- Matches made in the period whose lasting window is still open: "too early to tell".
    matched - lasting_judged AS lasting_too_early
FROM counted
ORDER BY program_id NULLS FIRST, period
