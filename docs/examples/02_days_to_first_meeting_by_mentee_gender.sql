-- Time to first meeting (step 3) by mentee gender, for matches that held a meeting.
-- Joins the per-match metrics to the mentee's demographics through the pseudonymised ids.
-- Microdata is not suppressed: keep groups of at least 10 matches before reporting.
SELECT
    p.gender AS mentee_gender,
    count(*) AS matches,
    median(s.days_to_first_meeting) AS median_days,
    round(avg(s.days_to_first_meeting), 1) AS mean_days,
    round(avg(CASE WHEN s.days_to_first_meeting <= 14 THEN 1 ELSE 0 END), 3) AS within_two_weeks
FROM metrics.match_steps AS s
JOIN core.participants AS p ON p.participant_id = s.mentee_id
WHERE s.days_to_first_meeting IS NOT NULL
GROUP BY p.gender
HAVING count(*) >= 10
ORDER BY median_days, mentee_gender;
