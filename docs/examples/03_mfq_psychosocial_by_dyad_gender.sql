-- MFQ-9 psychosocial support at exit in same- vs cross-gender dyads. Dyads with an
-- undisclosed or self-described gender on either side are 'unknown', never a guess.
-- A mentee's latest exit score is used once per mentee (a mentee with two matches counts in
-- each of their dyad types).
WITH exit_score AS (
    SELECT participant_id, arg_max(score, submitted_at) AS score
    FROM core.construct_scores
    WHERE survey = 'exit' AND construct = 'psychosocial_support' AND score IS NOT NULL
    GROUP BY participant_id
),
dyad AS (
    SELECT DISTINCT
        m.mentee_id,
        CASE
            WHEN mentee.gender IN ('undisclosed', 'self_described')
              OR mentor.gender IN ('undisclosed', 'self_described') THEN 'unknown'
            WHEN mentee.gender = mentor.gender THEN 'same'
            ELSE 'cross'
        END AS dyad_gender
    FROM core.matches AS m
    JOIN core.participants AS mentee ON mentee.participant_id = m.mentee_id
    JOIN core.participants AS mentor ON mentor.participant_id = m.mentor_id
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
