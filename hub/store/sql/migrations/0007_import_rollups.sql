-- Reports an initial import wrote with the ministry roll-ups deferred: each page
-- adds its reports here in its own transaction, and the import refreshes them in
-- a few large set-wise passes when the node's pull ends (hub/initial_sync.py),
-- instead of once per page under the roll-up rows' locks. A row outlives a crash,
-- so the node's next pull refreshes what the interrupted one left behind.
CREATE TABLE ministry_pending (
    report_id uuid PRIMARY KEY,          -- derived data: no foreign key, like ministry_facts
    node_code text NOT NULL
);
CREATE INDEX ministry_pending_node ON ministry_pending (node_code);
