-- Retention by the number of the six steps a match completed (0-6): a dose-response view.
-- metrics.outcomes_by_match holds the mentee's latest recorded retention on or before as-of.
SELECT
    s.steps_completed,
    count(*) AS matches,
    round(avg(o.value), 3) AS retained_share
FROM metrics.match_steps AS s
JOIN metrics.outcomes_by_match AS o
  ON o.match_id = s.match_id AND o.measure = 'retained'
GROUP BY s.steps_completed
HAVING count(*) >= 10
ORDER BY s.steps_completed;
