-- One fingerprint per program of every core row match_steps reads: the program's matches,
-- their meetings and activities, and the survey items of its participants. A program whose
-- fingerprint is unchanged (and whose settings are unchanged) keeps its match_steps rows.
-- bit_xor of row hashes is order-independent, so re-sorting a file changes nothing.
-- input_rows (matches + meetings + activities + survey items) sizes the batches in which
-- programs are recomputed; counting here costs nothing more than the scan the hashes need.
WITH matches AS (
    SELECT program_id, bit_xor(hash(m)) AS h, count(*) AS n FROM core.matches AS m GROUP BY ALL
),
meetings AS (
    SELECT m.program_id, bit_xor(hash(g)) AS h, count(*) AS n
    FROM core.meetings AS g JOIN core.matches AS m USING (match_id) GROUP BY ALL
),
activities AS (
    SELECT m.program_id, bit_xor(hash(a)) AS h, count(*) AS n
    FROM core.activities AS a JOIN core.matches AS m USING (match_id) GROUP BY ALL
),
surveys AS (
    SELECT p.program_id, bit_xor(hash(s)) AS h, count(*) AS n
    FROM core.survey_items AS s JOIN core.participants AS p USING (participant_id) GROUP BY ALL
)
SELECT
    program_id,
    hash(m.h, coalesce(g.h, 0), coalesce(a.h, 0), coalesce(s.h, 0))::VARCHAR AS inputs_hash,
    (m.n + coalesce(g.n, 0) + coalesce(a.n, 0) + coalesce(s.n, 0))::BIGINT AS input_rows
FROM matches AS m
LEFT JOIN meetings AS g USING (program_id)
LEFT JOIN activities AS a USING (program_id)
LEFT JOIN surveys AS s USING (program_id)
ORDER BY program_id
