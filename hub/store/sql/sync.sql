-- The outbox relay and the node sinks.

-- name: relay_try_slice
SELECT pg_try_advisory_lock($1, $2)

-- name: relay_release_slices
SELECT pg_advisory_unlock_all()

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

-- name: institution_nodes
SELECT code, node_code FROM institutions

-- name: outbox_since
-- Committed outbox rows of transactions from horizon $3 on, without those ($1) the
-- reader has seen already, oldest transaction first, $2 at most; all under one
-- snapshot, beside its horizon (no transaction below it is still running), its
-- time (every change committed before it is visible to this statement) and
-- whether a bulk load's reports wait in ministry_pending (it wrote no outbox rows).
WITH mark AS (
    SELECT pg_snapshot_xmin(pg_current_snapshot()) AS horizon, statement_timestamp() AS at,
           EXISTS (SELECT 1 FROM ministry_pending) AS pending
), found AS (
    SELECT o.id, o.xid, o.report_id, o.event_id, o.data
    FROM outbox o
    WHERE o.xid >= $3::text::xid8 AND o.id <> ALL ($1::bigint[])
    ORDER BY o.xid, o.id
    LIMIT $2
)
SELECT m.horizon::text AS horizon, m.at, m.pending,
       coalesce(array_agg(f.id ORDER BY f.xid, f.id) FILTER (WHERE f.id IS NOT NULL), '{}')
           AS ids,
       coalesce(array_agg(f.xid::text ORDER BY f.xid, f.id) FILTER (WHERE f.id IS NOT NULL),
                '{}') AS xids,
       coalesce(array_agg(f.event_id ORDER BY f.xid, f.id) FILTER (WHERE f.id IS NOT NULL),
                '{}') AS event_ids,
       coalesce(array_agg(f.data ORDER BY f.xid, f.id) FILTER (WHERE f.id IS NOT NULL),
                '{}') AS data,
       coalesce(array_agg(DISTINCT f.report_id) FILTER (WHERE f.id IS NOT NULL), '{}')
           AS report_ids
FROM mark m LEFT JOIN found f ON true
GROUP BY m.horizon, m.at, m.pending

-- name: outbox_horizon
-- Where a reader that starts now begins: every transaction below this has ended.
SELECT pg_snapshot_xmin(pg_current_snapshot())::text
