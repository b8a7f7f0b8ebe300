-- Independent reference for metrics.match_steps, written straight from docs/metrics.md with
-- correlated EXISTS checks per held meeting (the Polars code uses as-of joins instead).
-- Reads tables matches, meetings, activities, survey_items; parameters:
-- $as_of DATE, $thanks_lo/$thanks_hi, $follow_lo/$follow_hi, $lasting_days INTEGER,
-- $network_sources VARCHAR[].
WITH
m AS (
    SELECT * FROM matches WHERE matched_on <= $as_of::DATE
),
held AS (
    SELECT
        meeting_id, match_id, started_at, CAST(started_at AS DATE) AS d, duration_min, mode,
        agenda_shared, questions_prepared
    FROM meetings
    WHERE status = 'held' AND CAST(started_at AS DATE) <= $as_of::DATE
),
act AS (
    SELECT match_id, kind, from_role, CAST(occurred_at AS DATE) AS d
    FROM activities
    WHERE CAST(occurred_at AS DATE) <= $as_of::DATE
),
intake AS (
    SELECT participant_id, CAST(submitted_at AS DATE) AS d
    FROM survey_items
    WHERE survey = 'intake' AND CAST(submitted_at AS DATE) <= $as_of::DATE
),
first_meeting AS (
    SELECT match_id, d AS first_meeting_on, mode AS first_mode
    FROM (
        SELECT *, row_number() OVER (PARTITION BY match_id ORDER BY started_at, meeting_id) AS rn
        FROM held
    )
    WHERE rn = 1
),
held_flags AS (
    SELECT
        h.match_id,
        h.d,
        h.duration_min,
        coalesce(h.agenda_shared, FALSE) OR coalesce(h.questions_prepared, 0) > 0 AS inquiry,
        EXISTS (
            SELECT 1 FROM act a
            WHERE a.match_id = h.match_id AND a.kind = 'thank_you' AND a.from_role = 'mentee'
              AND date_diff('day', h.d, a.d) BETWEEN $thanks_lo::INTEGER AND $thanks_hi::INTEGER
        ) AS thanked,
        EXISTS (
            SELECT 1 FROM act a
            WHERE a.match_id = h.match_id AND a.kind IN ('follow_up', 'progress_update')
              AND a.from_role = 'mentee'
              AND date_diff('day', h.d, a.d) BETWEEN $follow_lo::INTEGER AND $follow_hi::INTEGER
        ) AS followed_up
    FROM held h
),
meeting_stats AS (
    SELECT
        match_id,
        count(*) AS held_meetings,
        sum(coalesce(duration_min, 0)) AS total_meeting_minutes,
        count(*) FILTER (WHERE inquiry) AS inquiry_meetings,
        count(*) FILTER (WHERE thanked) AS thanked_meetings,
        bool_or(followed_up) AS any_followed_up,
        -- a cycle: thanked, then followed up; the windows make the follow-up come later
        count(*) FILTER (WHERE thanked AND followed_up) AS cycles,
        max(d) AS last_meeting_on
    FROM held_flags
    GROUP BY match_id
),
flags AS (
    SELECT
        m.match_id, m.program_id, m.mentor_id, m.mentee_id, m.matched_on,
        fm.first_meeting_on,
        (
            EXISTS (
                SELECT 1 FROM act a
                WHERE a.match_id = m.match_id AND a.kind = 'goal_set' AND a.from_role = 'mentee'
                  AND (fm.first_meeting_on IS NULL OR a.d <= fm.first_meeting_on)
            )
            OR EXISTS (
                SELECT 1 FROM intake i
                WHERE i.participant_id = m.mentee_id
                  AND (fm.first_meeting_on IS NULL OR i.d <= fm.first_meeting_on)
            )
        ) AS s1_self_reflection,
        (
            coalesce(list_contains($network_sources, m.match_source), FALSE)
            OR EXISTS (
                SELECT 1 FROM act a
                WHERE a.match_id = m.match_id AND a.kind = 'mentor_request'
                  AND a.from_role = 'mentee' AND a.d <= m.matched_on
            )
        ) AS s2_network,
        fm.first_meeting_on IS NOT NULL AS s3_calendar,
        date_diff('day', m.matched_on, fm.first_meeting_on) AS days_to_first_meeting,
        CASE WHEN fm.first_meeting_on IS NOT NULL THEN fm.first_mode = 'in_person' END
            AS first_meeting_in_person,
        coalesce(ms.inquiry_meetings, 0) > 0 AS s4_inquiry,
        CAST(ms.inquiry_meetings AS DOUBLE) / ms.held_meetings AS inquiry_share,
        coalesce(ms.thanked_meetings, 0) > 0 AS s5_thanks,
        CAST(ms.thanked_meetings AS DOUBLE) / ms.held_meetings AS thanks_share,
        coalesce(ms.any_followed_up, FALSE) AS s6_follow_up,
        coalesce(ms.cycles, 0) AS cycles,
        coalesce(ms.held_meetings, 0) AS held_meetings,
        CAST(coalesce(ms.total_meeting_minutes, 0) AS DOUBLE) AS total_meeting_minutes,
        greatest(
            ms.last_meeting_on,
            (SELECT max(a.d) FROM act a WHERE a.match_id = m.match_id)
        ) AS last_interaction_on,
        -- lasting counts interactions of the open period only: matched_on .. ended_on/as_of
        greatest(
            (SELECT max(h.d) FROM held h WHERE h.match_id = m.match_id
                AND h.d BETWEEN m.matched_on AND coalesce(m.ended_on, $as_of::DATE)),
            (SELECT max(a.d) FROM act a WHERE a.match_id = m.match_id
                AND a.d BETWEEN m.matched_on AND coalesce(m.ended_on, $as_of::DATE))
        ) AS last_in_period,
        coalesce(fm.first_meeting_on, m.matched_on) AS window_start
    FROM m
    LEFT JOIN first_meeting fm ON fm.match_id = m.match_id
    LEFT JOIN meeting_stats ms ON ms.match_id = m.match_id
)
SELECT
    * EXCLUDE (last_in_period, window_start),
    s3_calendar
        AND coalesce(
            date_diff('day', first_meeting_on, last_in_period) >= $lasting_days::INTEGER, FALSE
        ) AS lasting,
    CAST(s1_self_reflection AS BIGINT) + CAST(s2_network AS BIGINT)
        + CAST(s3_calendar AS BIGINT) + CAST(s4_inquiry AS BIGINT)
        + CAST(s5_thanks AS BIGINT) + CAST(s6_follow_up AS BIGINT) AS steps_completed,
    -- a timed step's window closes `hi` days after the first meeting (or the match date)
    date_diff('day', window_start, $as_of::DATE) >= $thanks_hi::INTEGER AS s5_window_closed,
    date_diff('day', window_start, $as_of::DATE) >= $follow_hi::INTEGER AS s6_window_closed,
    date_diff('day', window_start, $as_of::DATE) >= $lasting_days::INTEGER
        AS lasting_window_closed
FROM flags
ORDER BY match_id
