-- What to cite: which snapshot, built by which pipeline version from which inputs with which
-- settings and key; and how much of the input was kept (metrics.data_quality).
SELECT
    i.snapshot_id,
    i.built_at,
    i.as_of,
    i.pipeline_version,
    i.settings_hash,
    i.key_fingerprint,
    i.inputs_sha256,
    i.input_files,
    q.rows_read,
    q.rows_kept,
    round(q.rows_quarantined / q.rows_read, 4) AS quarantined_share
FROM meta.snapshot_info AS i
CROSS JOIN (
    SELECT sum(rows_read)::BIGINT AS rows_read, sum(rows_kept)::BIGINT AS rows_kept,
           sum(rows_quarantined)::BIGINT AS rows_quarantined
    FROM metrics.data_quality
) AS q;
