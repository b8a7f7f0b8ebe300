-- The intake responses of those programs' mentees: match_steps reads only when a mentee
-- answered an intake survey (step 1), so one row per response instead of one per item (an
-- MFQ-9 intake has nine), and the mentee's intake counts whichever program the participant
-- row names.
SELECT DISTINCT s.participant_id, s.survey, s.submitted_at
FROM core.survey_items AS s
WHERE s.survey = 'intake'
    AND s.participant_id IN (
        SELECT mentee_id FROM core.matches WHERE program_id IN (SELECT unnest($programs))
    )
