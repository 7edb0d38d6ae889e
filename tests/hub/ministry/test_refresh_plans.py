"""The roll-ups' refresh is planned for the tables as they are at each call.

A first import into a fresh index grows ``report_history`` from a few rows to hundreds
of thousands between two refreshes on one connection, sooner than autovacuum analyses
it. A plan kept from the first call (a scan of the whole history per report, right for
a table of one page) then made one 5,000-report refresh of ``bench.initial_sync`` run
for over ten minutes where a plan made for the grown table takes two seconds.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import asyncpg

from hub.demo.seed import seed_reports
from hub.store.connection import Connection
from hub.store.database import Database

WIB = timezone(timedelta(hours=7))
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=WIB)
COPIES = 60
"""How many times the index grows between the two refreshes."""

# Each report and its history again under a new id: the index grown as an import grows it.
_GROW = """
WITH copies AS (
    SELECT r.id AS old, gen_random_uuid() AS new
    FROM reports r CROSS JOIN generate_series(1, $1)
), new_reports AS (
    INSERT INTO reports
    SELECT (jsonb_populate_record(r, jsonb_build_object('id', c.new))).*
    FROM reports r JOIN copies c ON c.old = r.id
)
INSERT INTO report_history
SELECT (jsonb_populate_record(h, jsonb_build_object('report_id', c.new))).*
FROM report_history h JOIN copies c ON c.old = h.report_id
"""


async def _plans_of_a_refresh(conn: Connection, ids: list[uuid.UUID]) -> list[str]:
    """The plans of every statement a ``ministry_refresh`` of ``ids`` runs (auto_explain,
    its messages sent to this client)."""
    plans: list[str] = []

    def heard(_: object, message: asyncpg.PostgresLogMessage) -> None:
        plans.append(str(message.message))

    await conn.execute("LOAD 'auto_explain'")
    await conn.execute(
        "SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on;"
        "SET client_min_messages = log"
    )
    conn.add_log_listener(heard)
    try:
        await conn.execute("SELECT ministry_refresh($1::uuid[])", ids)
    finally:
        conn.remove_log_listener(heard)
        await conn.execute("RESET client_min_messages; RESET auto_explain.log_min_duration")
    return plans


async def test_a_refresh_plans_for_the_history_as_it_is_now(db: Database) -> None:
    async with db.pool.acquire() as conn:
        # Autovacuum stays out: an ANALYZE would make every kept plan anew.
        for table in ("reports", "report_history"):
            await conn.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
        await seed_reports(conn, 30, now=NOW)
        await conn.execute("ANALYZE reports, report_history")
        first = [r["id"] for r in await conn.fetch("SELECT id FROM reports LIMIT 2")]
        await conn.execute("SELECT ministry_refresh($1::uuid[])", first)

        await conn.execute(_GROW, COPIES)
        grown = [r["id"] for r in await conn.fetch("SELECT id FROM reports LIMIT 1000")]
        plans = await _plans_of_a_refresh(conn, grown)

    facts = [p for p in plans if "report_history x" in p]
    assert facts, plans
    # Each report's own history rows, found by its key: no scan of the whole table.
    assert all("Seq Scan on report_history x" not in p for p in facts), facts[0]
