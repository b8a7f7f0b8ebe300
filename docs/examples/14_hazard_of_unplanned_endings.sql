-- Do cross-group dyads end early (unplanned) more often? Cox hazard ratios by dyad
-- composition and mentee group, stratified by program, mentor-clustered intervals.
-- Above 1: ends sooner than the reference (same-group dyads; women mentees).
SELECT
    outcome,
    term,
    round(hazard_ratio, 2) AS hazard_ratio,
    round(hr_ci_low, 2) AS ci_low,
    round(hr_ci_high, 2) AS ci_high,
    round(p_adjusted, 3) AS p_adjusted,
    n_obs AS matches
FROM metrics.model_estimates
WHERE model = 'coxph' AND term IS NOT NULL
ORDER BY outcome, term;
