-- MFQ-9 psychosocial support at exit in same- vs cross-gender dyads. metrics.match_dyads holds
-- the pipeline's dyad composition: a dyad with an undisclosed or self-described gender on
-- either side is 'unknown', never a guess. A mentee's latest exit score is used once per
-- mentee (a mentee with two matches counts in each of their dyad types).
WITH exit_score AS (
    SELECT participant_id, arg_max(score, submitted_at) AS score
    FROM core.construct_scores
    WHERE survey = 'exit' AND construct = 'psychosocial_support' AND score IS NOT NULL
    GROUP BY participant_id
),
dyad AS (
    SELECT DISTINCT mentee_id, dyad_gender
    FROM metrics.match_dyads
)
SELECT
    d.dyad_gender,
    count(*) AS mentees,
    round(avg(e.score), 2) AS mean_score,
    round(stddev_samp(e.score), 2) AS sd
FROM dyad AS d
JOIN exit_score AS e ON e.participant_id = d.mentee_id
GROUP BY d.dyad_gender
HAVING count(*) >= 10
ORDER BY d.dyad_gender;
