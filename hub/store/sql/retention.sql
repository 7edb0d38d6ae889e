-- Retention (hub/store/retention.py): each statement deletes one batch of rows past
-- their window ($1: the window in days, $2: rows at most) and says how many went.
-- Each runs on its own, so each batch is its own transaction. One process at a time
-- prunes a table (a transaction-scoped advisory lock, one per table): two deleting the
-- same rows in different orders could deadlock. NULL: another process holds it.

-- name: retention_outbox
-- Published rows older than the window, and never one the roll-ups' projection has
-- not passed (its stored horizon): it reads the outbox tail from there. Rows from
-- before migration 0012 (no xid) were projected by the trigger of that time. The
-- mark moves past the rows deleted, so a tail reader behind it (a response cache
-- feed of a process that was away for days) knows it missed some.
WITH lock AS (
    SELECT pg_try_advisory_xact_lock(1598570243, 1) AS held
), horizon AS (
    SELECT horizon FROM ministry_projection
), doomed AS (
    SELECT o.id FROM outbox o, horizon h, lock l
    WHERE l.held AND o.created_at < now() - make_interval(days => $1)
      AND o.published_at IS NOT NULL AND (o.xid IS NULL OR o.xid < h.horizon)
    ORDER BY o.id
    LIMIT $2
), gone AS (
    DELETE FROM outbox o USING doomed d WHERE o.id = d.id RETURNING o.xid
), mark AS (
    UPDATE outbox_retention r
    SET pruned_below = greatest(
        r.pruned_below, ((SELECT max(xid::text::bigint) FROM gone) + 1)::text::xid8
    )
    WHERE EXISTS (SELECT 1 FROM gone WHERE xid IS NOT NULL)
)
SELECT CASE WHEN (SELECT held FROM lock) THEN count(*) END FROM gone

-- name: retention_inbox
-- What each sink dealt with, older than the events topic holds a record: no
-- redelivery of those can come any more (and the version guard would drop it).
WITH lock AS (
    SELECT pg_try_advisory_xact_lock(1598570243, 2) AS held
), doomed AS (
    SELECT node_code, event_id FROM sink_inbox, lock l
    WHERE l.held AND received_at < now() - make_interval(days => $1) LIMIT $2
), gone AS (
    DELETE FROM sink_inbox s USING doomed d
    WHERE s.node_code = d.node_code AND s.event_id = d.event_id
    RETURNING 1
)
SELECT CASE WHEN (SELECT held FROM lock) THEN count(*) END FROM gone

-- name: retention_idempotency
WITH lock AS (
    SELECT pg_try_advisory_xact_lock(1598570243, 3) AS held
), doomed AS (
    SELECT scope, key FROM idempotency_keys, lock l
    WHERE l.held AND created_at < now() - make_interval(days => $1) LIMIT $2
), gone AS (
    DELETE FROM idempotency_keys k USING doomed d
    WHERE k.scope = d.scope AND k.key = d.key
    RETURNING 1
)
SELECT CASE WHEN (SELECT held FROM lock) THEN count(*) END FROM gone

-- name: retention_review
-- Resolved items; one a learned status label cites (node_vocabulary.review_id) stays.
WITH lock AS (
    SELECT pg_try_advisory_xact_lock(1598570243, 4) AS held
), doomed AS (
    SELECT r.id FROM review_queue r, lock l
    WHERE l.held AND r.resolved_at < now() - make_interval(days => $1)
      AND NOT EXISTS (SELECT 1 FROM node_vocabulary v WHERE v.review_id = r.id)
    ORDER BY r.resolved_at
    LIMIT $2
), gone AS (
    DELETE FROM review_queue r USING doomed d WHERE r.id = d.id RETURNING 1
)
SELECT CASE WHEN (SELECT held FROM lock) THEN count(*) END FROM gone
