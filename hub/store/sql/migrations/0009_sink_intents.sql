-- Write-back intents: a node sink notes (node, event) here, durably, before it
-- calls the node, and removes the row in the transaction that records the
-- outcome in sink_inbox. A row left behind marks an event whose effect at the
-- node is unknown (the hub stopped after calling the node and before recording
-- the answer): its redelivery is reconciled with the node (looked up there, only
-- what is missing applied) instead of applied again, which could create a
-- report or post a follow-up twice in the node's own system.
CREATE TABLE sink_intents (
    node_code   text NOT NULL REFERENCES nodes (code),
    event_id    uuid NOT NULL,
    report_id   uuid NOT NULL,
    version     integer NOT NULL,
    intended_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (node_code, event_id)
);
