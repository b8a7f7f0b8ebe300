-- match_steps' columns of the meetings of those programs' matches.
SELECT
    g.meeting_id, g.match_id, g.started_at, g.duration_min, g.mode, g.agenda_shared,
    g.questions_prepared, g.status
FROM core.meetings AS g
JOIN core.matches AS m USING (match_id)
WHERE m.program_id IN (SELECT unnest($programs))
