-- Replay: forgetting what the hub believes a node holds, before rebuilding it
-- from the state topic (its system was wiped, or it is a new node).

-- name: replay_forget_inbox
DELETE FROM sink_inbox WHERE node_code = $1

-- name: replay_forget_versions
DELETE FROM sink_versions WHERE node_code = $1
