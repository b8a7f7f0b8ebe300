-- match_steps' columns of the matches of the programs in $programs.
SELECT match_id, program_id, mentor_id, mentee_id, matched_on, match_source, ended_on
FROM core.matches
WHERE program_id IN (SELECT unnest($programs))
