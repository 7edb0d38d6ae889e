-- Clients and the audit log.

-- name: client_add
INSERT INTO clients (client_id, node_code, scopes, secret_hash)
VALUES ($1, $2, $3, $4)
ON CONFLICT (client_id) DO NOTHING
RETURNING true

-- name: client_by_id
SELECT client_id, node_code, scopes, created_at, revoked_at, secret_hash
FROM clients WHERE client_id = $1

-- name: client_active
SELECT EXISTS (SELECT 1 FROM clients WHERE client_id = $1 AND revoked_at IS NULL)

-- name: client_list
SELECT client_id, node_code, scopes, created_at, revoked_at FROM clients ORDER BY client_id

-- name: client_revoke
UPDATE clients SET revoked_at = now() WHERE client_id = $1 AND revoked_at IS NULL
RETURNING true

-- name: audit_append
-- Unsealed: the sealer chains it shortly after its transaction commits.
INSERT INTO audit_log (at, client_id, node_code, action, report_id, outcome)
VALUES ($1, $2, $3, $4, $5, $6)

-- name: audit_seal_lock
-- One sealer at a time, across every hub process; the lock ends with the transaction.
SELECT pg_try_advisory_xact_lock(1598570241)

-- name: audit_head
-- The newest sealed entry, kept or archived (an archive may have taken every one).
SELECT seq, hash FROM (
    (SELECT seq, hash FROM audit_log WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1)
    UNION ALL
    (SELECT last_seq, head_hash FROM audit_segments ORDER BY last_seq DESC LIMIT 1)
) heads
ORDER BY seq DESC LIMIT 1

-- name: audit_unsealed
-- Committed entries not sealed yet, oldest first.
SELECT id, at, client_id, node_code, action, report_id, outcome
FROM audit_log WHERE seq IS NULL ORDER BY id LIMIT $1

-- name: audit_seal
UPDATE audit_log a
SET seq = s.seq, prev_hash = s.prev_hash, hash = s.hash, sealed_at = now()
FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[]) AS s (id, seq, prev_hash, hash)
WHERE a.id = s.id

-- name: audit_pending
-- How many entries wait for their seal, and how long the oldest has waited.
SELECT count(*) AS entries,
       coalesce(extract(epoch FROM now() - min(at)), 0)::float8 AS oldest_seconds
FROM audit_log WHERE seq IS NULL

-- name: audit_all
SELECT id, seq, at, client_id, node_code, action, report_id, outcome, prev_hash, hash
FROM audit_log WHERE seq IS NOT NULL ORDER BY seq

-- name: audit_oldest_sealed
-- The oldest kept sealed entries, in chain order: the next segment to archive.
SELECT id, seq, at, client_id, node_code, action, report_id, outcome, prev_hash, hash
FROM audit_log WHERE seq IS NOT NULL ORDER BY seq LIMIT $1

-- name: audit_archive_segment
-- A segment of sealed entries $1..$2; audit_drop_archived then takes them out of
-- audit_log in the same transaction (the trigger lets an entry go only once a
-- segment holds it).
INSERT INTO audit_segments (first_seq, last_seq, prev_hash, head_hash, entries, imports,
                            first_at, last_at, body)
VALUES ($1, $2, $3, $4, $2::bigint - $1::bigint + 1, $5, $6, $7, $8)

-- name: audit_drop_archived
WITH gone AS (
    DELETE FROM audit_log WHERE seq BETWEEN $1 AND $2 RETURNING 1
)
SELECT count(*) FROM gone

-- name: audit_segments_all
SELECT first_seq, last_seq, prev_hash, head_hash, entries, body
FROM audit_segments ORDER BY first_seq

-- name: audit_segment_count
SELECT count(*) AS segments, coalesce(sum(entries), 0)::bigint AS entries FROM audit_segments
