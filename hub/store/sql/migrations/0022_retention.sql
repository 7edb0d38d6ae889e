-- Bounded storage (hub/store/retention.py): published outbox rows, the sinks'
-- inbox, idempotency keys and resolved review items are pruned after their
-- windows, and old audit entries move into archived segments.

-- How far the outbox has been pruned: rows of transactions below `pruned_below`
-- may be gone. The retention job never prunes past the roll-ups' projection
-- (ministry_projection.horizon); a reader of the tail whose horizon is below this
-- mark has missed rows (hub/store/outbox_tail.py tells it so).
CREATE TABLE outbox_retention (
    one          boolean PRIMARY KEY DEFAULT true CHECK (one),
    pruned_below xid8 NOT NULL
);
INSERT INTO outbox_retention (pruned_below) VALUES ('0'::xid8);

-- The jobs find old rows by their time. BRIN indexes cost the writers next to
-- nothing (the tables are appended to in time order).
CREATE INDEX outbox_created_brin ON outbox USING brin (created_at);
CREATE INDEX sink_inbox_received_brin ON sink_inbox USING brin (received_at);
CREATE INDEX idempotency_keys_created_brin ON idempotency_keys USING brin (created_at);
CREATE INDEX review_queue_resolved ON review_queue (resolved_at) WHERE resolved_at IS NOT NULL;

-- Archived segments of the audit chain: a run of sealed entries (seq first_seq to
-- last_seq) moved out of audit_log in one transaction, kept as gzip-compressed JSON
-- lines (every field, its seq and both hashes), with the hash the first entry
-- follows (prev_hash) and the last entry's hash (head_hash), which the chain in the
-- next segment or in audit_log continues from. `sp4n-hub audit verify` walks the
-- segments, then the kept entries. Append-only like the log itself.
CREATE TABLE audit_segments (
    first_seq   bigint PRIMARY KEY,
    last_seq    bigint NOT NULL UNIQUE,
    prev_hash   text NOT NULL,
    head_hash   text NOT NULL,
    entries     integer NOT NULL,
    imports     integer NOT NULL,     -- IMPORT entries in it (cache_generations reads them)
    first_at    timestamptz NOT NULL,
    last_at     timestamptz NOT NULL,
    body        bytea NOT NULL,
    archived_at timestamptz NOT NULL DEFAULT now(),
    CHECK (entries = last_seq - first_seq + 1)
);

CREATE TRIGGER audit_segments_append_only BEFORE UPDATE OR DELETE ON audit_segments
    FOR EACH ROW EXECUTE FUNCTION forbid_rewrite();

-- An entry may now also be deleted once a segment holds it (and only then).
CREATE OR REPLACE FUNCTION audit_log_seal_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.seq IS NOT NULL AND EXISTS (
        SELECT 1 FROM audit_segments s WHERE OLD.seq BETWEEN s.first_seq AND s.last_seq
    ) THEN
        RETURN OLD;
    END IF;
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
