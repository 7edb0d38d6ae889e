-- Open311 GeoReport v2's reads of the report index (hub/open311).

-- name: open311_requests
-- GET requests: $1 report ids, $2 topic ids, $3/$4 submitted between (inclusive),
-- $5 states, $6 region (each null: any), $7 sees every confidential report, $8 the
-- viewer's nodes, $9 limit, $10 offset. Newest first.
SELECT * FROM report_index
WHERE (NOT confidential OR $7 OR nodes && $8::text[])
  AND ($1::uuid[] IS NULL OR id = ANY ($1::uuid[]))
  AND ($2::int[] IS NULL OR topic_id = ANY ($2::int[]))
  AND ($3::timestamptz IS NULL OR submitted_at >= $3)
  AND ($4::timestamptz IS NULL OR submitted_at <= $4)
  AND ($5::text[] IS NULL OR state = ANY ($5::text[]))
  AND ($6::text IS NULL OR region_code = $6)
ORDER BY submitted_at DESC, id DESC
LIMIT $9 OFFSET $10
