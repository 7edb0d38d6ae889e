-- Duplicates across systems (hub/domain/duplicates.py).

-- name: duplicate_candidates
-- Pairs of open reports of one region whose titles are alike (pg_trgm's % operator,
-- served by reports_title_trgm), the later one submitted at most $2 days after the
-- earlier, the later one since $1; scored 0..1: title 0.5, content 0.3 (their first
-- 500 characters), place 0.2 (full within 100 m, nothing from 2 km; without both
-- coordinates the other parts are scaled to 1). Best first, at least $3, at most $4.
WITH pairs AS (
    SELECT a.id AS original_id, b.id AS duplicate_id,
           similarity(a.title, b.title) AS title_score,
           similarity(left(a.content, 500), left(b.content, 500)) AS content_score,
           CASE WHEN a.latitude IS NOT NULL AND b.latitude IS NOT NULL THEN
               111.32 * sqrt(power(a.latitude - b.latitude, 2)
                             + power((a.longitude - b.longitude) * cos(radians(a.latitude)), 2))
           END AS distance_km
    FROM reports b
    JOIN reports a
      ON a.region_code = b.region_code
     AND a.title % b.title
     AND (a.submitted_at, a.id) < (b.submitted_at, b.id)
     AND a.submitted_at >= b.submitted_at - make_interval(days => $2)
    WHERE b.submitted_at >= $1
      AND a.state <> 'ARCHIVED' AND b.state <> 'ARCHIVED'
), scored AS (
    SELECT *, CASE
        WHEN distance_km IS NULL THEN (0.5 * title_score + 0.3 * content_score) / 0.8
        ELSE 0.5 * title_score + 0.3 * content_score
             + 0.2 * least(1, greatest(0, (2 - distance_km) / 1.9))
    END AS score
    FROM pairs
)
SELECT original_id, duplicate_id, score::float8, title_score::float8,
       content_score::float8, distance_km::float8
FROM scored WHERE score >= $3
ORDER BY score DESC, duplicate_id
LIMIT $4

-- name: reports_by_ids
SELECT * FROM report_index WHERE id = ANY ($1::uuid[])

-- name: duplicate_link
-- Report $1 duplicates $2: linked once ($3 when, $4 who); the original takes over the
-- duplicate's external references, so its later changes reach those nodes' records.
-- The count of references moved.
WITH linked AS (
    INSERT INTO report_duplicates (report_id, original_id, marked_at, marked_by)
    VALUES ($1, $2, $3, $4)
    ON CONFLICT (report_id) DO NOTHING
    RETURNING report_id, original_id
)
UPDATE external_refs e SET report_id = l.original_id
FROM linked l
WHERE e.report_id = l.report_id
  AND NOT EXISTS (SELECT 1 FROM external_refs o
                  WHERE o.report_id = l.original_id AND o.node_code = e.node_code)

-- name: duplicate_of
SELECT original_id FROM report_duplicates WHERE report_id = $1

-- name: duplicates_by_reports
SELECT report_id, original_id FROM report_duplicates WHERE report_id = ANY ($1::uuid[])
