-- Construct scores of those programs' mentees.
SELECT response_id, participant_id, survey, submitted_at, instrument, construct, score
FROM core.construct_scores
WHERE participant_id IN (
    SELECT mentee_id FROM core.matches WHERE program_id IN (SELECT unnest($programs))
)
