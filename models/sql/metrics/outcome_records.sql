-- Recorded outcomes of those programs' mentees (a mentee's outcomes follow each of their
-- matches, whichever program the participant row names).
SELECT participant_id, measure, value, observed_on
FROM core.outcomes
WHERE participant_id IN (
    SELECT mentee_id FROM core.matches WHERE program_id IN (SELECT unnest($programs))
)
