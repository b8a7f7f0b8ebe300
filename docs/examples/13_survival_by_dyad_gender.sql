-- How long do relationships last, by dyad gender composition? Kaplan-Meier share of matches
-- still going at 6 and 12 months and the median duration, for all programs, with the log-rank
-- test (stratified by program). Open matches are censored at the as-of date, not counted as
-- ended. Suppressed groups (fewer than 10 matches) have null values.
SELECT
    s."group" AS dyad_gender,
    any_value(s.n) AS matches,
    any_value(s.events) AS ended,
    round(max(s.value) FILTER (WHERE s.day = 182), 3) AS still_going_6m,
    round(max(s.value) FILTER (WHERE s.day = 365), 3) AS still_going_12m,
    max(s.value) FILTER (WHERE s.statistic = 'median_days') AS median_days,
    round(any_value(t.p_value), 3) AS logrank_p,
    bool_or(s.suppressed) AS suppressed
FROM metrics.survival AS s
LEFT JOIN metrics.survival_tests AS t
  ON t.dimension = s.dimension AND t.program_id IS NULL
WHERE s.program_id IS NULL AND s.dimension = 'dyad_gender'
GROUP BY s."group"
ORDER BY s."group";
