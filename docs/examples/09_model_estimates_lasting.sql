-- Which steps predict a lasting relationship, holding dyad composition and program fixed?
-- Logistic model among matches with a held meeting (s3_calendar is not a predictor there).
-- Estimates are log-odds; odds_ratio is exp(estimate). p_adjusted is Benjamini-Hochberg
-- within the model; standard errors are clustered by mentor. A model that could not be fitted
-- has one row with term null and the reason in note.
SELECT
    model,
    term,
    round(estimate, 3) AS log_odds,
    round(odds_ratio, 2) AS odds_ratio,
    round(or_ci_low, 2) AS or_ci_low,
    round(or_ci_high, 2) AS or_ci_high,
    round(p_adjusted, 4) AS p_adjusted,
    n_obs,
    n_groups,
    converged,
    note
FROM metrics.model_estimates
WHERE outcome = 'lasting' AND model = 'logit' AND term IS DISTINCT FROM 'Intercept'
ORDER BY p_adjusted NULLS LAST, term;
