-- The sync path: what each node sink has seen and applied.

-- Inbox: one row per (node, event) the sink has dealt with, so a redelivery is
-- recognised and not applied twice.
CREATE TABLE sink_inbox (
    node_code   text NOT NULL REFERENCES nodes (code),
    event_id    uuid NOT NULL,
    report_id   uuid NOT NULL,
    version     integer NOT NULL,
    outcome     text NOT NULL CHECK (outcome IN ('APPLIED', 'STALE', 'DEAD_LETTERED')),
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (node_code, event_id)
);

-- Version guard: the newest version of each report a node has applied; a sink
-- never moves a report backwards.
CREATE TABLE sink_versions (
    node_code  text NOT NULL REFERENCES nodes (code),
    report_id  uuid NOT NULL,
    version    integer NOT NULL,
    state      text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (node_code, report_id)
);
