-- Survey items (codebook items $items) of the participants of the programs in $programs.
SELECT s.response_id, s.participant_id, s.survey, s.submitted_at, s.item_id, s.value
FROM core.survey_items AS s
WHERE s.item_id IN (SELECT unnest($items))
    AND s.participant_id IN (
        SELECT participant_id FROM core.participants WHERE program_id IN (SELECT unnest($programs))
    )
