-- The ministry roll-ups become a projection of committed changes: the write
-- transaction no longer maintains them. hub/ministry/projection.py reads the
-- outbox rows committed since its last pass and refreshes the facts and roll-ups
-- of their reports (ministry_refresh recomputes a report from the index, so a
-- report projected twice counts once).
DROP TRIGGER ministry_history ON report_history;
DROP FUNCTION ministry_on_history();

-- The transaction that wrote each outbox row, so the projection can tell which
-- rows may still appear below a point (a transaction still running) from those
-- that cannot. Rows written before this migration keep NULL: the trigger had
-- already projected them. A default set after the column is added costs no
-- rewrite of the table.
ALTER TABLE outbox ADD COLUMN xid xid8;
ALTER TABLE outbox ALTER COLUMN xid SET DEFAULT pg_current_xact_id();
CREATE INDEX outbox_xid ON outbox (xid, id) WHERE xid IS NOT NULL;

-- How far the projection has come: every outbox row of a transaction below
-- `horizon` is projected, and so is every change committed before `current_to`.
CREATE TABLE ministry_projection (
    one        boolean PRIMARY KEY DEFAULT true CHECK (one),
    horizon    xid8 NOT NULL,
    current_to timestamptz NOT NULL
);
INSERT INTO ministry_projection (horizon, current_to)
VALUES (pg_snapshot_xmin(pg_current_snapshot()), now());
