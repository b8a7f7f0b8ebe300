-- Can the MFQ-9 constructs be trusted in this population? Cronbach's alpha per construct and
-- survey wave, per program, with the number of complete responses behind it. Alpha of 0.7 or
-- more is the usual bar; alpha over few responses is unstable.
SELECT
    instrument,
    construct,
    survey,
    program_id,
    n AS complete_responses,
    round(alpha, 3) AS alpha
FROM metrics.construct_reliability
ORDER BY instrument, construct, survey, program_id;
