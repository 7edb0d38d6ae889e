-- The outbox relay, the node sinks and replay.

-- name: relay_try_slice
SELECT pg_try_advisory_lock($1, $2)

-- name: relay_release_slices
SELECT pg_advisory_unlock_all()

-- name: relay_release_slice
SELECT pg_advisory_unlock($1, $2)

-- name: relay_live_count
-- The relays alive now: each holds one connection named for it in this database,
-- gone (with its slice locks) when its process ends or loses the connection.
SELECT count(*)::int FROM pg_stat_activity
WHERE datname = current_database() AND application_name = $1

-- name: relay_batch
-- Unpublished rows of the slices this relay holds, oldest first. SKIP LOCKED
-- keeps a second relay that somehow holds the same slice from double-sending.
-- Each row's record as its writer encoded it; `data` only for a row from before
-- migration 0010, which has no record and is encoded by the relay.
SELECT id, event_id, record_key, record_value, record_header_names, record_header_values,
       CASE WHEN record_key IS NULL THEN data END AS data
FROM outbox
WHERE published_at IS NULL AND (abs(hashtext(report_id::text)) % $2) = ANY($1::int[])
ORDER BY id
LIMIT $3
FOR UPDATE SKIP LOCKED

-- name: relay_mark_published
UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])

-- name: outbox_backlog
-- Rows not yet published, and how long the oldest of them has waited.
SELECT count(*) AS rows,
       coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS oldest_seconds
FROM outbox
WHERE published_at IS NULL

-- name: sink_seen
SELECT event_id FROM sink_inbox WHERE node_code = $1 AND event_id = ANY($2::uuid[])

-- name: sink_versions_of
SELECT report_id, version FROM sink_versions WHERE node_code = $1 AND report_id = ANY($2::uuid[])

-- name: sink_record_inbox
INSERT INTO sink_inbox (node_code, event_id, report_id, version, outcome)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (node_code, event_id) DO NOTHING

-- name: sink_record_version
INSERT INTO sink_versions (node_code, report_id, version, state)
VALUES ($1, $2, $3, $4)
ON CONFLICT (node_code, report_id) DO UPDATE
SET version = EXCLUDED.version, state = EXCLUDED.state, applied_at = now()
WHERE sink_versions.version < EXCLUDED.version

-- name: sink_intend
-- Notes that node $1 is about to be sent events $2 (of reports $3, versions $4),
-- before it is called. Returns the ones noted now: any other was noted by an
-- earlier attempt whose outcome was never recorded, so its effect is unknown.
INSERT INTO sink_intents (node_code, event_id, report_id, version)
SELECT $1, t.event_id, t.report_id, t.version
FROM unnest($2::uuid[], $3::uuid[], $4::integer[]) AS t (event_id, report_id, version)
ON CONFLICT (node_code, event_id) DO NOTHING
RETURNING event_id

-- name: sink_drop_intents
-- The outcomes of events $2 at node $1 are recorded (or they were never sent).
DELETE FROM sink_intents WHERE node_code = $1 AND event_id = ANY($2::uuid[])

-- name: replay_forget_inbox
-- Replay: forgetting what the hub believes a node holds, before rebuilding it
-- from the state topic (its system was wiped, or it is a new node).
DELETE FROM sink_inbox WHERE node_code = $1

-- name: replay_forget_versions
DELETE FROM sink_versions WHERE node_code = $1

-- name: sink_cursors_of
-- Where nodes $2 are in topic $1: the next offset of each partition.
SELECT node_code, partition, next_offset FROM sink_cursors
WHERE topic = $1 AND node_code = ANY($2::text[])

-- name: sink_advance_cursors
-- Nodes $2 have dealt with topic $1 up to offsets $4 of partitions $3; a cursor
-- never moves back (a redelivered batch recorded late).
INSERT INTO sink_cursors (node_code, topic, partition, next_offset)
SELECT t.node_code, $1, t.partition, t.next_offset
FROM unnest($2::text[], $3::integer[], $4::bigint[]) AS t (node_code, partition, next_offset)
ON CONFLICT (node_code, topic, partition) DO UPDATE
SET next_offset = EXCLUDED.next_offset, updated_at = now()
WHERE sink_cursors.next_offset < EXCLUDED.next_offset

-- name: sink_try_serve
-- Of keys $2 (two-key advisory locks of class $1, one per node and partition),
-- the ones this session holds now: what this process may serve.
SELECT t.key FROM unnest($2::integer[]) AS t (key) WHERE pg_try_advisory_lock($1, t.key)

-- name: sink_locks_alive
-- The dispatcher's lock connection answers (its locks are held as long as it does).
SELECT 1

-- name: sink_release_serve
SELECT pg_advisory_unlock($1, t.key) FROM unnest($2::integer[]) AS t (key)
