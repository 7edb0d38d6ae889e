-- Each node's progress through the events topic (hub/sync/dispatch.py): the next
-- offset of each partition its sink has yet to deal with. Written in the same
-- transaction as the sink's inbox and version records, so a process that takes
-- over a partition starts the node where its last recorded batch ended; one
-- consumer group per hub process reads the topic for all its nodes.
CREATE TABLE sink_cursors (
    node_code   text        NOT NULL,
    topic       text        NOT NULL,
    partition   integer     NOT NULL CHECK (partition >= 0),
    next_offset bigint      NOT NULL CHECK (next_offset >= 0),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (node_code, topic, partition)
);
