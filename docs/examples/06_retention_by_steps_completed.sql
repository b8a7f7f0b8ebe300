-- Retention by the number of the six steps a match completed (0-6): a dose-response view.
-- metrics.outcomes_by_match holds the mentee's latest recorded retention on or before as-of.
-- Only matches whose follow-up window closed (120 days from the first meeting; the thanks
-- window closes earlier): a match still inside it may yet reach steps 5 and 6, so counting it
-- now would put it among fewer steps completed than it will have (as the dashboards do).
SELECT
    s.steps_completed,
    count(*) AS matches,
    round(avg(o.value), 3) AS retained_share
FROM metrics.match_steps AS s
JOIN metrics.outcomes_by_match AS o
  ON o.match_id = s.match_id AND o.measure = 'retained'
WHERE s.s6_window_closed
GROUP BY s.steps_completed
HAVING count(*) >= 10
ORDER BY s.steps_completed;
