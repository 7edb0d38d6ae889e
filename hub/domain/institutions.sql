-- The institutions directory (hub/domain/institutions.py).

-- name: institutions_page
-- One page of the directory by code, after code $5 (none: from the start), $6 rows
-- at most; every given condition must hold ($3: a LIKE pattern of the lower-cased
-- name or the code).
SELECT code, name, level, node_code, region_code, active, source
FROM institutions
WHERE ($1::text IS NULL OR region_code = $1)
  AND ($2::text IS NULL OR level = $2)
  AND ($3::text IS NULL OR lower(name) LIKE $3 OR code LIKE $3)
  AND ($4::boolean IS NULL OR active = $4)
  AND ($5::text IS NULL OR code > $5)
ORDER BY code
LIMIT $6

-- name: institutions_count
SELECT count(*)
FROM institutions
WHERE ($1::text IS NULL OR region_code = $1)
  AND ($2::text IS NULL OR level = $2)
  AND ($3::text IS NULL OR lower(name) LIKE $3 OR code LIKE $3)
  AND ($4::boolean IS NULL OR active = $4)

-- name: institution_place
-- Where a new institution would sit: its region's type (null: no such region), the
-- node of that region (null: none), and whether node $2 exists.
SELECT (SELECT type FROM regions WHERE code = $1) AS region_type,
       (SELECT code FROM nodes WHERE region_code = $1 ORDER BY code LIMIT 1) AS region_node,
       EXISTS (SELECT 1 FROM nodes WHERE code = $2) AS node_known

-- name: institution_add
INSERT INTO institutions (code, name, level, node_code, region_code, source, changed_at,
                          changed_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (code) DO NOTHING
RETURNING code, name, level, node_code, region_code, active, source

-- name: institution_rename
UPDATE institutions SET name = $2, changed_at = $3, changed_by = $4
WHERE code = $1
RETURNING code, name, level, node_code, region_code, active, source

-- name: institution_deactivate
UPDATE institutions
SET active = false, inactive_since = $2, inactive_note = $3, changed_at = $2, changed_by = $4
WHERE code = $1 AND active
RETURNING code, name, level, node_code, region_code, active, source

-- name: institution_by_code
SELECT code, name, level, node_code, region_code, active, source FROM institutions
WHERE code = $1

-- name: institutions_changed_at
-- When the directory last changed: the response cache drops what names institutions.
SELECT max(changed_at) FROM institutions
