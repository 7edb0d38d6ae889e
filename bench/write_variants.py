"""What each index and row of a change costs: the write path alone under schema variants.

``python -m bench.write_variants [--changes N] [--rounds R] [VARIANT ...]`` starts an
embedded PostgreSQL (``durable=False``, ``pg_stat_statements`` loaded), and for each
round runs every variant once, in turn, so the machine's noise falls on all of them
alike: a fresh database, the hub as it ships with sync off (``create_app``: the
roll-ups' projection, the audit sealer and the response cache's change feed running),
the variant's SQL applied on top of the migrated schema, a warm-up, then ``N`` changes
of ``bench.sync_throughput``'s mix from 16 writers. Per variant it reports medians
over the rounds: changes/s, PostgreSQL's and the hub's CPU per change, WAL bytes per
change (``pg_stat_wal``), ``transition_write``'s execution time per call, and the
share of ``reports`` updates that were HOT.

A variant is an experiment, not a proposal: dropping an index here says what the
index costs the writers, not whether its readers can do without it.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from bench.harness import CpuMeter, load_average, say
from bench.sync_throughput import Tracker, Workload, fresh_database, hub_settings
from bench.write_profile import POSTGRES_DIR, WRITERS, owner
from hub.app import create_app
from hub.settings import SyncMode
from hub.store.database import Database
from infra.postgres import EmbeddedPostgres

VARIANTS: dict[str, tuple[str, ...]] = {
    "as migrated": (),
    "no reports_title_trgm": ("DROP INDEX reports_title_trgm",),
    "no reports_page": ("DROP INDEX reports_page",),
    "no reports_region": ("DROP INDEX reports_region",),
    "no reports_state": ("DROP INDEX reports_state",),
    "no reports_institution": ("DROP INDEX reports_institution",),
    "HOT possible (no state, institution index)": (
        "DROP INDEX reports_state",
        "DROP INDEX reports_institution",
    ),
    "reports fillfactor 80": ("ALTER TABLE reports SET (fillfactor = 80)",),
    "reports fillfactor 100 (before 0024)": ("ALTER TABLE reports SET (fillfactor = 100)",),
    "no outbox_unpublished": ("DROP INDEX outbox_unpublished",),
    "no outbox event_id unique": ("ALTER TABLE outbox DROP CONSTRAINT outbox_event_id_key",),
    "no outbox_created_brin": ("DROP INDEX outbox_created_brin",),
    "no report_history foreign keys": (
        "ALTER TABLE report_history DROP CONSTRAINT report_history_actor_node_fkey",
        "ALTER TABLE report_history DROP CONSTRAINT report_history_report_id_fkey",
    ),
    "audit seq, hash unique on every entry (before 0024)": (
        "DROP INDEX audit_log_seq",
        "DROP INDEX audit_log_hash",
        "ALTER TABLE audit_log ADD UNIQUE (seq), ADD UNIQUE (hash)",
    ),
    "generic plans": ("ALTER DATABASE {database} SET plan_cache_mode = force_generic_plan",),
    "no audit seq, hash unique": ("DROP INDEX audit_log_seq", "DROP INDEX audit_log_hash"),
    "refreshers lock report rows (before 0026)": (
        "CREATE OR REPLACE FUNCTION ministry_refresh_held(ids uuid[]) RETURNS void "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "PERFORM 1 FROM reports WHERE id = ANY (ids) ORDER BY id FOR UPDATE; "
        "PERFORM ministry_refresh(ids); END; $$",
    ),
}


@dataclass(frozen=True, slots=True)
class Run:
    rate: float
    pg_ms: float
    hub_ms: float
    wal_bytes: float
    write_ms: float
    plan_ms: float
    blocks: float
    hot: float


async def _updates(conn: asyncpg.Connection) -> tuple[int, int]:
    """Updates of ``reports`` so far, and how many of them were HOT."""
    row = await conn.fetchrow(
        "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'reports'"
    )
    assert row is not None
    return int(row[0]), int(row[1])


async def _one(server: str, sql: tuple[str, ...], changes: int, warmup: int) -> Run:
    url, _ = await fresh_database(server)
    database = url.rpartition("/")[2]
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        for statement in sql:
            if statement.startswith("ALTER DATABASE"):  # before the hub connects
                await conn.execute(statement.format(database=f'"{database}"'))
    finally:
        await conn.close()
    # The variant's schema changes go in before the hub's background work starts.
    db = Database(url)
    await db.open()
    try:
        await db.migrate()
        async with db.session() as session:
            for statement in sql:
                if not statement.startswith("ALTER DATABASE"):
                    await session.raw.execute(statement)
    finally:
        await db.close()
    app = create_app(hub_settings(url, "", "", SyncMode.OFF, 10))
    work = Workload(app.state.service, Tracker())
    async with app.router.lifespan_context(app):
        conn = await asyncpg.connect(url)
        try:
            await work.burst(warmup, WRITERS, seed=4)
            await app.state.projection.catch_up()
            await conn.execute("SELECT pg_stat_statements_reset()")
            await conn.execute("SELECT pg_stat_reset_shared('wal')")
            await conn.execute("SELECT pg_stat_force_next_flush()")
            upd0, hot0 = await _updates(conn)
            meter = CpuMeter(server_pid(server), None)
            before = meter.snapshot()
            start = time.monotonic()
            await work.burst(changes, WRITERS, seed=5)
            seconds = time.monotonic() - start
            await app.state.projection.catch_up()
            use = CpuMeter.use(before, meter.snapshot())
            await asyncio.sleep(1.1)  # statistics are flushed at most once a second
            await conn.execute("SELECT pg_stat_force_next_flush()")
            wal = await conn.fetchval("SELECT wal_bytes FROM pg_stat_wal")
            upd1, hot1 = await _updates(conn)
            rows = await conn.fetch(
                "SELECT query, calls, total_exec_time, total_plan_time, shared_blks_hit "
                "FROM pg_stat_statements "
                "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
        finally:
            await conn.close()
    write = [r for r in rows if owner(r["query"]) == "transition_write"]
    calls = sum(r["calls"] for r in write) or 1
    per = use.wall / changes
    return Run(
        rate=changes / seconds,
        pg_ms=use.postgres * per * 1000,
        hub_ms=use.hub * per * 1000,
        wal_bytes=float(wal) / changes,
        write_ms=sum(r["total_exec_time"] for r in write) / calls,
        plan_ms=sum(r["total_plan_time"] for r in rows) / changes,
        blocks=sum(r["shared_blks_hit"] for r in rows) / changes,
        hot=(hot1 - hot0) / max(upd1 - upd0, 1),
    )


_PIDS: dict[str, int] = {}


def server_pid(server: str) -> int:
    return _PIDS[server]


async def measure(
    names: Sequence[str], changes: int, warmup: int, rounds: int
) -> dict[str, list[Run]]:
    postgres = EmbeddedPostgres(POSTGRES_DIR, durable=False)
    server = await asyncio.to_thread(postgres.start)
    results: dict[str, list[Run]] = {name: [] for name in names}
    try:
        admin = await asyncpg.connect(server)
        try:
            loaded = await admin.fetchval("SHOW shared_preload_libraries")
            if "pg_stat_statements" not in loaded:
                await admin.execute(
                    "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'"
                )
            await admin.execute("ALTER SYSTEM SET pg_stat_statements.track_planning = on")
            await admin.execute("SELECT pg_reload_conf()")
        finally:
            await admin.close()
        if "pg_stat_statements" not in loaded:
            await asyncio.to_thread(postgres.stop)
            server = await asyncio.to_thread(postgres.start)
        _PIDS[server] = int((postgres.pgdata / "postmaster.pid").read_text().split()[0])
        for round_ in range(rounds):
            for name in names:
                run = await _one(server, VARIANTS[name], changes, warmup)
                results[name].append(run)
                say(
                    f"round {round_ + 1} {name}: {run.rate:,.0f}/s pg {run.pg_ms:.3f} ms "
                    f"hub {run.hub_ms:.3f} ms wal {run.wal_bytes:,.0f} B "
                    f"write {run.write_ms:.3f} ms plan {run.plan_ms:.3f} ms "
                    f"blocks {run.blocks:.0f} hot {run.hot:.0%}; load {load_average()}"
                )
    finally:
        await asyncio.to_thread(postgres.stop)
    return results


def table(results: dict[str, list[Run]]) -> str:
    def med(runs: list[Run], field: str) -> float:
        return statistics.median(float(getattr(r, field)) for r in runs)

    lines = [
        "| variant | changes/s | PostgreSQL CPU ms/change | hub CPU ms/change "
        "| WAL bytes/change | transition_write ms/call | planning ms/change "
        "| buffer hits/change | HOT updates |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, runs in results.items():
        lines.append(
            f"| {name} | {med(runs, 'rate'):,.0f} | {med(runs, 'pg_ms'):.3f} | "
            f"{med(runs, 'hub_ms'):.3f} | {med(runs, 'wal_bytes'):,.0f} | "
            f"{med(runs, 'write_ms'):.3f} | {med(runs, 'plan_ms'):.3f} | "
            f"{med(runs, 'blocks'):.0f} | {med(runs, 'hot'):.0%} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.write_variants", description=__doc__)
    parser.add_argument("variants", nargs="*", metavar="VARIANT", help=", ".join(VARIANTS))
    parser.add_argument("--changes", type=int, default=4_000)
    parser.add_argument("--warmup", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    names = args.variants or list(VARIANTS)
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        parser.error(f"unknown variants: {unknown}")
    say(f"load average before: {load_average()}")
    results = asyncio.run(measure(names, args.changes, args.warmup, args.rounds))
    print(table(results))
    print(f"\nload average after: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
