-- Client credentials and the tamper-evident audit log.

CREATE TABLE clients (
    client_id   text PRIMARY KEY,
    node_code   text REFERENCES nodes (code),
    scopes      text[] NOT NULL CHECK (cardinality(scopes) > 0),
    secret_hash text NOT NULL,               -- scrypt; the secret itself is never stored
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

-- Every mutation and every read of identity fields. Each row carries the hash of
-- the previous one, so an edit or a deletion breaks the chain.
CREATE TABLE audit_log (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz NOT NULL,
    client_id  text,
    node_code  text,
    action     text NOT NULL,
    report_id  uuid,
    outcome    text NOT NULL,
    prev_hash  text NOT NULL,
    hash       text NOT NULL UNIQUE
);

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION forbid_rewrite();

-- Every node a report concerns: its origin, its region's node, and the node of
-- every institution it has been addressed to. Authorisation and privacy use it.
CREATE FUNCTION report_nodes(report uuid) RETURNS text[]
LANGUAGE sql STABLE AS $$
    SELECT array_agg(DISTINCT n) FROM (
        SELECT r.origin_node AS n FROM reports r WHERE r.id = report
        UNION SELECT g.code FROM reports r JOIN nodes g ON g.code = r.region_code
              WHERE r.id = report
        UNION SELECT i.node_code FROM reports r JOIN institutions i ON i.code = r.institution_code
              WHERE r.id = report
        UNION SELECT i.node_code FROM dispositions d
              JOIN institutions i ON i.code IN (d.from_institution, d.to_institution)
              WHERE d.report_id = report
    ) involved
$$;
