-- The audit chain leaves the write path: a write appends its entry unsealed
-- (no lock, no read of the chain's head); one sealer at a time chains the
-- unsealed entries in the order it finds them, giving each its place (seq),
-- the previous entry's hash and its own. An entry's fields never change; the
-- seal is written once.

ALTER TABLE audit_log
    ALTER COLUMN prev_hash DROP NOT NULL,
    ALTER COLUMN hash DROP NOT NULL,
    ADD COLUMN seq bigint UNIQUE,
    ADD COLUMN sealed_at timestamptz;

-- Entries from before were chained in id order as they were written.
DROP TRIGGER audit_log_append_only ON audit_log;
UPDATE audit_log SET seq = id, sealed_at = at;

ALTER TABLE audit_log ADD CONSTRAINT audit_log_sealed_whole CHECK (
    (seq IS NULL AND prev_hash IS NULL AND hash IS NULL AND sealed_at IS NULL)
    OR (seq IS NOT NULL AND prev_hash IS NOT NULL AND hash IS NOT NULL AND sealed_at IS NOT NULL)
);

CREATE INDEX audit_log_unsealed ON audit_log (id) WHERE seq IS NULL;

CREATE FUNCTION audit_log_seal_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR OLD.seq IS NOT NULL
       OR (NEW.at, NEW.client_id, NEW.node_code, NEW.action, NEW.report_id, NEW.outcome)
          IS DISTINCT FROM
          (OLD.at, OLD.client_id, OLD.node_code, OLD.action, OLD.report_id, OLD.outcome)
    THEN
        RAISE EXCEPTION 'audit_log is append-only (an entry is only ever sealed, once)'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_seal_once();
