-- Where do mentees stand on the as-of date, per program (disclosure-controlled counts), and
-- how did the ended matches end (closure types from the codebook)?
SELECT 'status' AS kind, coalesce(program_id, 'all programs') AS program, status AS category,
       n, suppressed
FROM metrics.mentee_status_counts
UNION ALL
SELECT 'closure', 'all programs', closure_type,
       CASE WHEN count(*) >= 10 THEN count(*) END,  -- small counts stay unprinted here too
       count(*) < 10 AS suppressed
FROM metrics.match_duration
WHERE ended
GROUP BY closure_type
ORDER BY kind, program, category;
