-- match_steps' columns of the activities of those programs' matches.
SELECT a.match_id, a.occurred_at, a.kind, a.from_role
FROM core.activities AS a
JOIN core.matches AS m USING (match_id)
WHERE m.program_id IN (SELECT unnest($programs))
