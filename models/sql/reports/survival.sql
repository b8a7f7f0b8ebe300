-- Kaplan-Meier survival rows the reports show: each program's overall curve (dimension 'all',
-- dashboards) and, for all programs together, every dimension (the research report's curves by
-- dyad composition). Already suppressed by the producer (metrics.survival).
SELECT program_id, dimension, "group", statistic, day, n, events, value, ci_low, ci_high,
       suppressed
FROM metrics.survival
WHERE dimension = 'all' OR program_id IS NULL
ORDER BY program_id NULLS FIRST, dimension, "group", statistic, day
