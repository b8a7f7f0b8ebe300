-- The survey items of one hash bucket of responses ($bucket of $buckets), codebook items
-- ($items) only: a construct score reads one response's items, so buckets of whole responses
-- give the same scores as all responses at once. A plain filtered scan keeps table order.
SELECT response_id, participant_id, survey, submitted_at, item_id, value
FROM core.survey_items
WHERE item_id IN (SELECT unnest($items)) AND hash(response_id) % $buckets = $bucket
