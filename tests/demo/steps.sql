-- Step flags per match straight from the export's text columns (metrics.md, default settings).
WITH
held AS (
  SELECT meeting_id, match_id, CAST(started_at AS TIMESTAMP) AS ts,
         CAST(CAST(started_at AS TIMESTAMP) AS DATE) AS d,
         lower(coalesce(agenda_shared, '')) IN ('true', 'yes', 'y', '1')
           OR coalesce(TRY_CAST(questions_prepared AS INTEGER), 0) > 0 AS inquiry
  FROM meetings
  WHERE coalesce(status, 'held') = 'held'
),
acts AS (
  SELECT match_id, kind, from_role, CAST(CAST(occurred_at AS TIMESTAMP) AS DATE) AS d
  FROM activities
),
thanked AS (
  SELECT DISTINCT h.meeting_id FROM held h JOIN acts a USING (match_id)
  WHERE a.kind = 'thank_you' AND a.from_role = 'mentee' AND a.d - h.d BETWEEN 0 AND 7
),
followed AS (
  SELECT DISTINCT h.meeting_id FROM held h JOIN acts a USING (match_id)
  WHERE a.kind IN ('follow_up', 'progress_update') AND a.from_role = 'mentee'
    AND a.d - h.d BETWEEN 14 AND 120
),
per_match AS (
  SELECT h.match_id, min(h.d) AS first_d, max(h.d) AS last_held, count(*) AS held_n,
         bool_or(h.inquiry) AS s4, bool_or(t.meeting_id IS NOT NULL) AS s5,
         bool_or(f.meeting_id IS NOT NULL) AS s6
  FROM held h
  LEFT JOIN thanked t USING (meeting_id)
  LEFT JOIN followed f USING (meeting_id)
  GROUP BY h.match_id
),
intake AS (
  SELECT participant_id, min(CAST(CAST(submitted_at AS TIMESTAMP) AS DATE)) AS d
  FROM survey_responses WHERE survey = 'intake' GROUP BY participant_id
)
SELECT
  m.match_id,
  CAST(m.matched_on AS DATE) AS matched_on,
  p.first_d AS first_meeting_on,
  coalesce(
    EXISTS (SELECT 1 FROM acts a WHERE a.match_id = m.match_id AND a.kind = 'goal_set'
            AND a.from_role = 'mentee' AND (p.first_d IS NULL OR a.d <= p.first_d))
    OR (i.d IS NOT NULL AND (p.first_d IS NULL OR i.d <= p.first_d)), false) AS s1,
  m.match_source IN ('mentee_requested', 'network_referral', 'self_matched')
    OR EXISTS (SELECT 1 FROM acts a WHERE a.match_id = m.match_id AND a.kind = 'mentor_request'
               AND a.from_role = 'mentee' AND a.d <= CAST(m.matched_on AS DATE)) AS s2,
  p.match_id IS NOT NULL AS s3,
  coalesce(p.s4, false) AS s4,
  coalesce(p.s5, false) AS s5,
  coalesce(p.s6, false) AS s6,
  p.first_d - CAST(m.matched_on AS DATE) AS days_to_first_meeting,
  coalesce(greatest(p.last_held, (SELECT max(a.d) FROM acts a WHERE a.match_id = m.match_id))
           - p.first_d >= 180, false) AS lasting
FROM matches m
LEFT JOIN per_match p USING (match_id)
LEFT JOIN intake i ON i.participant_id = m.mentee_id
ORDER BY m.match_id
