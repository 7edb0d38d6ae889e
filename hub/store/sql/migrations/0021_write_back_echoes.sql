-- What the hub wrote back to a node, by report: a pulled status is the hub's own
-- echo only if the hub wrote that state there (hub/ingest/ingest.sql
-- states_since_node_change reads this), so a node going back to a state the hub held
-- but never sent it (a decline: DISPOSED -> VERIFIED) is news.
CREATE INDEX sink_inbox_report ON sink_inbox (report_id, node_code, version);
CREATE INDEX sink_intents_report ON sink_intents (report_id, node_code, version);
