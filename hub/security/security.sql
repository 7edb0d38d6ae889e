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
SELECT seq, hash FROM audit_log WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1

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
SELECT id, at, client_id, node_code, action, report_id, outcome, prev_hash, hash
FROM audit_log WHERE seq IS NOT NULL ORDER BY seq
