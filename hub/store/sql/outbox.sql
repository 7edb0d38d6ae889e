-- The committed outbox read in commit order: the seam the roll-ups' projection
-- and the response cache's change feed read through (hub/store/outbox_tail.py).

-- name: outbox_since
-- Committed outbox rows of transactions from horizon $3 on, without those ($1) the
-- reader has seen already, oldest transaction first, $2 at most; all under one
-- snapshot, beside its horizon (no transaction below it is still running), its
-- time (every change committed before it is visible to this statement) and
-- whether a bulk load's reports wait in ministry_pending (it wrote no outbox rows),
-- and below which transaction the retention job may have deleted rows.
WITH mark AS (
    SELECT pg_snapshot_xmin(pg_current_snapshot()) AS horizon, statement_timestamp() AS at,
           EXISTS (SELECT 1 FROM ministry_pending) AS pending,
           (SELECT pruned_below FROM outbox_retention) AS pruned_below
), found AS (
    SELECT o.id, o.xid, o.report_id, o.event_id, o.data
    FROM outbox o
    WHERE o.xid >= $3::text::xid8 AND o.id <> ALL ($1::bigint[])
    ORDER BY o.xid, o.id
    LIMIT $2
)
SELECT m.horizon::text AS horizon, m.at, m.pending, m.pruned_below::text AS pruned_below,
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
GROUP BY m.horizon, m.at, m.pending, m.pruned_below

-- name: outbox_horizon
-- Where a reader that starts now begins: every transaction below this has ended.
SELECT pg_snapshot_xmin(pg_current_snapshot())::text
