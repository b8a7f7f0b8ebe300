-- outcomes_by_match's columns of the matches of the programs in $programs.
SELECT match_id, program_id, mentee_id, matched_on
FROM core.matches
WHERE program_id IN (SELECT unnest($programs))
