-- Trusted GraphQL documents (hub/api/documents.py, sp4n-hub documents).

-- name: trusted_document
SELECT body FROM trusted_documents WHERE sha256 = $1

-- name: trusted_document_add
-- True when the document was not registered before.
INSERT INTO trusted_documents (sha256, body) VALUES ($1, $2)
ON CONFLICT (sha256) DO NOTHING
RETURNING true

-- name: trusted_documents
SELECT sha256, body, added_at FROM trusted_documents ORDER BY added_at, sha256
