-- Participants of the programs in $programs, with their program (alpha is per program).
SELECT participant_id, program_id
FROM core.participants
WHERE program_id IN (SELECT unnest($programs))
