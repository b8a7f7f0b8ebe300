-- Are mentees matched with mentors of their own gender or race more often than chance would
-- give? Observed same-group share against the share expected if pairing ignored the attribute,
-- with the permutation p value; per program and for all programs (pooled, permuted within
-- program). Small programs are suppressed (null values, suppressed true).
SELECT
    coalesce(program_id, 'all programs') AS program,
    attribute,
    n_matches,
    n_unknown,
    round(observed_share, 3) AS observed_share,
    round(expected_share, 3) AS expected_by_chance,
    round(expected_share_enrolled, 3) AS expected_from_enrolment,
    round(excess, 3) AS excess,
    p_value,
    round(ei_index, 3) AS ei_index,
    suppressed
FROM metrics.homophily
ORDER BY attribute, program_id NULLS LAST;
