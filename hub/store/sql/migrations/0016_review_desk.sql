-- The review queue admins work (hub/ingest/review.py): how each item was resolved,
-- and the status labels they taught the hub, per node and versioned. The connectors'
-- TOML vocabularies stay the seed; a label learned here applies to what a node's
-- connector leaves unmapped, the latest version of it winning.
ALTER TABLE review_queue
    ADD COLUMN resolution      text CHECK (resolution IN ('APPLY', 'DISMISS')),
    ADD COLUMN resolution_note text,
    ADD COLUMN resolved_by     text,
    ADD CONSTRAINT review_queue_resolved
        CHECK ((resolved_at IS NULL) = (resolution IS NULL));

CREATE INDEX review_queue_report_open ON review_queue (report_id, received_at, id)
    WHERE resolved_at IS NULL;

CREATE TABLE node_vocabulary (
    node_code  text NOT NULL REFERENCES nodes (code),
    raw_state  text NOT NULL CHECK (raw_state <> ''),
    version    integer NOT NULL CHECK (version > 0),
    state      text NOT NULL,
    decided_at timestamptz NOT NULL,
    decided_by text NOT NULL,
    review_id  bigint REFERENCES review_queue (id),
    PRIMARY KEY (node_code, raw_state, version)
);
