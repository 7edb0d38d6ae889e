-- Connectors: how far each node has been pulled, and what the hub would not guess.

-- The last persisted watermark per node: a pull resumes from here after a restart.
CREATE TABLE node_watermarks (
    node_code text PRIMARY KEY REFERENCES nodes (code),
    watermark text NOT NULL,
    pulled_at timestamptz NOT NULL,
    changes   bigint NOT NULL DEFAULT 0
);

-- Changes a node showed that the hub did not apply: an unmapped status, an
-- unmapped topic, or a move the life cycle does not allow. An admin resolves them.
CREATE TABLE review_queue (
    id               bigserial PRIMARY KEY,
    node_code        text NOT NULL REFERENCES nodes (code),
    external_id      text NOT NULL,
    external_version text NOT NULL,
    raw_state        text NOT NULL,
    reason           text NOT NULL,
    report_id        uuid REFERENCES reports (id),
    received_at      timestamptz NOT NULL DEFAULT now(),
    resolved_at      timestamptz,
    UNIQUE (node_code, external_id, external_version)
);
CREATE INDEX review_queue_open ON review_queue (received_at, id) WHERE resolved_at IS NULL;
