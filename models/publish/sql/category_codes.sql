-- Values of one free-text category that may not be published as written, with the code that
-- replaces them: a value held by fewer than {min_holders} distinct {counted_by}, or one that
-- looks like an email address, a web address or a phone number (a person typed where a
-- category belongs). The code is keyed like a pseudonym, so one withheld value gets the same
-- code in every table and every snapshot built with the same key, and reveals nothing.
CREATE OR REPLACE TEMP TABLE {code_table} AS
WITH held AS (
    SELECT CAST({column} AS VARCHAR) AS value, count(DISTINCT {counted_by}) AS holders
    FROM {source}
    WHERE {column} IS NOT NULL
    GROUP BY 1
)
SELECT
    held.value,
    'withheld_' || left(
        sha256(k.opad || unhex(sha256(k.ipad || encode('category:{vocabulary}:' || held.value)))),
        {length}
    ) AS code
FROM held, __pseudonym_key AS k
WHERE held.holders < {min_holders}
   OR regexp_matches(held.value, '[^@\s]+@[^@\s]+\.[A-Za-z]{{2,}}')
   OR regexp_matches(held.value, '(?i)(https?://|www\.)')
   OR regexp_matches(held.value, '\+[0-9][0-9 ().-]{{7,}}[0-9]')
   OR regexp_matches(held.value, '\b[0-9]{{3}}[ .-]?[0-9]{{3}}[ .-]?[0-9]{{4}}\b')
