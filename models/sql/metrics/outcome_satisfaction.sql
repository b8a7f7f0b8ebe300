-- The exit satisfaction items ($item) of those programs' mentees: the only survey items
-- outcomes_by_match reads besides construct scores.
SELECT response_id, participant_id, survey, submitted_at, item_id, value
FROM core.survey_items
WHERE survey = 'exit' AND item_id = $item
    AND participant_id IN (
        SELECT mentee_id FROM core.matches WHERE program_id IN (SELECT unnest($programs))
    )
