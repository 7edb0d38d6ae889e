-- Trusted GraphQL documents (hub/api/documents.py): registered with
-- `sp4n-hub documents add`, run by their hash; with SP4N_TRUSTED_DOCUMENTS=1 the
-- only documents the hub runs.
CREATE TABLE trusted_documents (
    sha256   text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    body     text NOT NULL,
    added_at timestamptz NOT NULL DEFAULT now()
);
