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

-- name: audit_lock
-- One writer at a time extends the chain; the lock ends with the transaction.
SELECT pg_advisory_xact_lock(1598570241)

-- name: audit_last_hash
SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1

-- name: audit_append
INSERT INTO audit_log (at, client_id, node_code, action, report_id, outcome, prev_hash, hash)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)

-- name: audit_all
SELECT id, at, client_id, node_code, action, report_id, outcome, prev_hash, hash
FROM audit_log ORDER BY id
