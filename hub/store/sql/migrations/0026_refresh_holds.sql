-- The roll-ups' refreshers (the projection's pass, a bulk load's pending list, the
-- calendar's recompute) hold the reports they refresh by transaction-scoped advisory
-- locks instead of row locks. Two refreshes of one report still never interleave
-- (which would count it twice or collide on its fact row), but a write to a report
-- no longer waits behind a pass that holds it, nor a pass behind a write: whatever a
-- write changes after a refresh read the report is in its outbox row, which the next
-- pass reads (by transaction, hub.store.outbox_tail), so the report is refreshed again.
CREATE FUNCTION ministry_refresh_held(ids uuid[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    k integer;
BEGIN
    -- One lock per report (a hash collision only makes two reports wait on each
    -- other), taken in key order by every refresher so that two cannot deadlock.
    FOR k IN SELECT DISTINCT hashtext(id::text) FROM unnest(ids) AS id ORDER BY 1 LOOP
        PERFORM pg_advisory_xact_lock(1598570244, k);
    END LOOP;
    PERFORM ministry_refresh(ids);
END;
$$;
