-- Rows per program that the per-program metrics read: its matches, and the survey items and
-- outcomes of its participants. Sizes the batches of programs computed at once.
WITH people AS (
    SELECT p.program_id, count(*) AS n
    FROM core.survey_items AS s JOIN core.participants AS p USING (participant_id)
    GROUP BY ALL
    UNION ALL
    SELECT p.program_id, count(*) AS n
    FROM core.outcomes AS o JOIN core.participants AS p USING (participant_id)
    GROUP BY ALL
    UNION ALL
    SELECT program_id, count(*) AS n FROM core.matches GROUP BY ALL
)
SELECT program_id, sum(n)::BIGINT AS input_rows
FROM people
WHERE program_id IS NOT NULL
GROUP BY ALL
ORDER BY program_id
