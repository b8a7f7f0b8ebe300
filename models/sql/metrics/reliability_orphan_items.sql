-- Survey items (codebook items $items) whose participant is not in core.participants: their
-- program is unknown, and they form the program_id-null groups.
SELECT s.response_id, s.participant_id, s.survey, s.submitted_at, s.item_id, s.value
FROM core.survey_items AS s
WHERE s.item_id IN (SELECT unnest($items))
    AND NOT EXISTS (SELECT 1 FROM core.participants AS p WHERE p.participant_id = s.participant_id)
