-- Keyed pseudonyms for every distinct id of one entity (HMAC-SHA256, RFC 2104). DuckDB has
-- sha256 but no hmac, so the two-pass construction is spelt out:
--   HMAC(K, m) = H((K xor opad) || H((K xor ipad) || m))
-- with the padded key blocks in the temp table __pseudonym_key (bound as parameters, so the key
-- never appears in SQL text). One pass over distinct ids, then joins: 1M ids take ~1.5 s on
-- 2 cores, and an id repeated in many rows is hashed once.
CREATE OR REPLACE TEMP TABLE {map_table} AS
SELECT
    ids.raw_id,
    '{prefix}' || left(
        sha256(k.opad || unhex(sha256(k.ipad || encode('{tag}' || ids.raw_id)))), {length}
    ) AS pseudonym
FROM ({distinct_ids}) AS ids, __pseudonym_key AS k
