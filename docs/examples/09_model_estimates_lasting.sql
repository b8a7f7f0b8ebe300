-- Which steps predict a lasting relationship, holding dyad composition and program fixed?
-- Logistic models report log-odds: exp(estimate) is the odds ratio. p_adjusted is
-- Benjamini-Hochberg within the model; standard errors are clustered by mentor.
SELECT
    model,
    term,
    round(estimate, 3) AS estimate,
    round(exp(estimate), 2) AS odds_ratio_if_logistic,
    round(ci_low, 3) AS ci_low,
    round(ci_high, 3) AS ci_high,
    round(p_adjusted, 4) AS p_adjusted,
    n_obs,
    n_groups,
    converged
FROM metrics.model_estimates
WHERE outcome = 'lasting' AND term <> 'Intercept'
ORDER BY model, p_adjusted NULLS LAST;
