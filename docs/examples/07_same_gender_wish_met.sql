-- Mentees who asked for a mentor of their own gender: how many got one, per program. Mentees
-- whose dyads are all of unknown composition (undisclosed or self-described) are left out.
WITH dyad AS (
    SELECT
        m.program_id,
        m.mentee_id,
        mentee.gender IN ('undisclosed', 'self_described')
            OR mentor.gender IN ('undisclosed', 'self_described') AS unknown,
        mentee.gender = mentor.gender AS same
    FROM core.matches AS m
    JOIN core.participants AS mentee ON mentee.participant_id = m.mentee_id
    JOIN core.participants AS mentor ON mentor.participant_id = m.mentor_id
    WHERE mentee.wants_same_gender_mentor
),
wish AS (
    SELECT program_id, mentee_id, bool_or(same AND NOT unknown) AS met
    FROM dyad
    GROUP BY program_id, mentee_id
    HAVING bool_or(NOT unknown)
)
SELECT
    program_id,
    count(*) AS wishing_mentees,
    count(*) FILTER (WHERE met) AS wish_met,
    round(avg(CASE WHEN met THEN 1 ELSE 0 END), 3) AS wish_met_share
FROM wish
GROUP BY program_id
ORDER BY program_id;
