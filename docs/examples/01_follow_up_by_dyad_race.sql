-- Follow-up rate (step 6) by dyad race composition (same / cross / unknown), per program and
-- for all programs together. metrics.breakdowns already applies disclosure control: a
-- suppressed cell has null value and interval, so it can be shown as "fewer than 10". n counts
-- the matches whose follow-up window (120 days from the first meeting) closed.
SELECT
    coalesce(program_id, 'all programs') AS program,
    "group" AS dyad_race,
    n AS matches,
    round(value, 3) AS follow_up_rate,
    round(ci_low, 3) AS ci_low,
    round(ci_high, 3) AS ci_high,
    suppressed
FROM metrics.breakdowns
WHERE dimension = 'dyad_race' AND metric = 's6_follow_up'
ORDER BY program_id NULLS LAST, "group";
