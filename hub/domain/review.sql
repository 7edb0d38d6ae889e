-- The review desk (hub/domain/review.py): resolving held changes, and the status
-- labels admins teach the hub, per node and versioned (node_vocabulary).

-- name: open_reviews
SELECT * FROM review_queue WHERE resolved_at IS NULL ORDER BY received_at, id LIMIT $1

-- name: review_item
SELECT * FROM review_queue WHERE id = $1

-- name: review_earlier_open
-- An open item holding an earlier change of the same report ($1), than item $3
-- received at $2: held changes of one report are applied in their order.
SELECT id FROM review_queue
WHERE report_id = $1 AND resolved_at IS NULL AND (received_at, id) < ($2, $3)
ORDER BY received_at, id LIMIT 1

-- name: review_resolve
-- Closes open item $1; no row when it was closed meanwhile.
UPDATE review_queue
SET resolved_at = $2, resolution = $3, resolution_note = $4, resolved_by = $5
WHERE id = $1 AND resolved_at IS NULL
RETURNING *

-- name: institution_known
-- Whether the hub knows institution $1 and it still takes reports.
SELECT EXISTS (SELECT 1 FROM institutions WHERE code = $1 AND active)

-- name: vocabulary_learn
-- Node $1's label $2 means state $3 from now on: the label's next version.
INSERT INTO node_vocabulary (node_code, raw_state, version, state, decided_at, decided_by,
                             review_id)
SELECT $1, $2, coalesce(max(version), 0) + 1, $3, $4, $5, $6
FROM node_vocabulary WHERE node_code = $1 AND raw_state = $2
RETURNING version

-- name: vocabulary_of_node
-- What admins taught the hub of node $1's labels: the latest version of each.
SELECT DISTINCT ON (raw_state) raw_state, state, version
FROM node_vocabulary WHERE node_code = $1
ORDER BY raw_state, version DESC
