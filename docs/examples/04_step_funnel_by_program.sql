-- How far relationships get: the all-time funnel of the six steps per program (and for all
-- programs together), with the conversion from each step to the next. The shares of s5, s6 and
-- lasting are over the matches whose window closed; lasting_too_early counts the others.
SELECT
    coalesce(program_id, 'all programs') AS program,
    matches,
    round(s1_self_reflection_share, 3) AS s1,
    round(s2_network_share, 3) AS s2,
    round(s3_calendar_share, 3) AS s3,
    round(s4_inquiry_share, 3) AS s4,
    round(s5_thanks_share, 3) AS s5,
    round(s6_follow_up_share, 3) AS s6,
    round(lasting_share, 3) AS lasting,
    lasting_too_early,
    round(conv_s5_s6, 3) AS thanks_to_follow_up,
    median_days_to_first_meeting
FROM metrics.step_funnel
WHERE period = 'all'
ORDER BY program_id NULLS LAST;
