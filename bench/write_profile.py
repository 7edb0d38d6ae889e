"""Where PostgreSQL's time goes on the write path alone: a profile, not a race.

``python -m bench.write_profile [--quick]`` starts an embedded PostgreSQL
(``durable=False``) with ``pg_stat_statements`` loaded, builds the hub as it ships
with sync off (``create_app``: the roll-ups' projection, the audit sealer and the
response cache's change feed run as they do in production), and runs the mix of
``bench.sync_throughput``'s write-path phase: 16 writers, each owning its reports.
It then lists the statements by the time PostgreSQL spent executing them (wall time
inside the server, lock waits included), per change and as a share of the total,
by named query (its name tells who runs it: ``transition_*`` and ``submission_*``
the write path, ``ministry_*``/``projection_*``/``bulk_refresh_any_pending`` the
projection, ``outbox_since`` the projection and the cache's feed, ``audit_*`` the
sealer). Beside it, PostgreSQL's and the hub's CPU per change as
``bench.sync_throughput`` measures them.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from bench.harness import ROOT, CpuMeter, load_average, machine_facts, say, write_section
from bench.sync_throughput import Tracker, Workload, fresh_database, hub_settings
from hub.app import create_app
from hub.settings import SyncMode
from hub.store import queries
from infra.postgres import EmbeddedPostgres

POSTGRES_DIR = ROOT / ".sp4n" / "bench-write-profile-postgres"
WRITERS = 16


def _plain(text: str) -> str:
    """A statement's text without comments and with single spaces: how a named query's
    body and pg_stat_statements' copy of it (which drops leading comments) compare."""
    return " ".join(re.sub(r"--[^\n]*", " ", text).split())


NAMES = {_plain(body): name for name, body in queries.load().items()}
"""Each named query of hub/store/sql by its plain text."""


@dataclass(frozen=True, slots=True)
class Statement:
    query: str
    calls: int
    ms: float


def owner(query: str) -> str:
    """The named query a statement is (its name tells who runs it), else its text."""
    text = _plain(query)
    return NAMES.get(text) or "unnamed: " + text[:70]


async def _statements(url: str) -> list[Statement]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT query, calls, total_exec_time FROM pg_stat_statements "
            "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
    finally:
        await conn.close()
    return [Statement(r["query"], r["calls"], r["total_exec_time"]) for r in rows]


async def _reset(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SELECT pg_stat_statements_reset()")
    finally:
        await conn.close()


async def measure(changes: int, warmup: int) -> tuple[list[Statement], float, float, float]:
    postgres = EmbeddedPostgres(POSTGRES_DIR, durable=False)
    server = await asyncio.to_thread(postgres.start)
    try:
        admin = await asyncpg.connect(server)
        try:
            loaded = await admin.fetchval("SHOW shared_preload_libraries")
            if "pg_stat_statements" not in loaded:
                await admin.execute(
                    "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'"
                )
        finally:
            await admin.close()
        if "pg_stat_statements" not in loaded:
            say("restarting PostgreSQL with pg_stat_statements loaded")
            await asyncio.to_thread(postgres.stop)
            server = await asyncio.to_thread(postgres.start)
        url, _ = await fresh_database(server)
        conn = await asyncpg.connect(url)
        try:
            await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        finally:
            await conn.close()
        postmaster = int((postgres.pgdata / "postmaster.pid").read_text().split()[0])
        meter = CpuMeter(postmaster, None)
        app = create_app(hub_settings(url, "", "", SyncMode.OFF, 10))
        work = Workload(app.state.service, Tracker())
        async with app.router.lifespan_context(app):
            say(f"warming up: {warmup:,} changes")
            await work.burst(warmup, WRITERS, seed=4)
            await app.state.projection.catch_up()
            await _reset(url)
            say(f"measuring: {changes:,} changes from {WRITERS} writers")
            before = meter.snapshot()
            start = time.monotonic()
            await work.burst(changes, WRITERS, seed=5)
            seconds = time.monotonic() - start
            # The changes' derived work belongs to them: let the projection finish it.
            await app.state.projection.catch_up()
            use = CpuMeter.use(before, meter.snapshot())
        statements = await _statements(url)
    finally:
        await asyncio.to_thread(postgres.stop)
    per_change = use.wall / changes
    return (
        statements,
        changes / seconds,
        use.postgres * per_change * 1000,
        use.hub * per_change * 1000,
    )


def section(
    statements: list[Statement], changes: int, rate: float, pg_ms: float, hub_ms: float
) -> str:
    groups: dict[str, tuple[int, float]] = {}
    for s in statements:
        calls, ms = groups.get(owner(s.query), (0, 0.0))
        groups[owner(s.query)] = (calls + s.calls, ms + s.ms)
    total = sum(ms for _, ms in groups.values())
    rows = "\n".join(
        f"| {name} | {calls:,} | {ms / changes:.3f} | {100 * ms / total:.1f} % |"
        for name, (calls, ms) in sorted(groups.items(), key=lambda g: -g[1][1])[:14]
    )
    facts = machine_facts(("asyncpg",))
    return f"""\
## write_profile: where PostgreSQL's time goes on the write path alone

`python -m bench.write_profile`, {facts["date"]}; load average {load_average()} after the run.
The hub as it ships with `sync=off` (the roll-ups' projection, the audit sealer and the
response cache's change feed running), {WRITERS} writers, {changes:,} changes of
`bench.sync_throughput`'s mix, then the projection caught up. Execution time inside
PostgreSQL per statement group (`pg_stat_statements`, wall time, lock waits included),
per change and as a share of all statements' time:

| statement (named query of `hub/store/sql`) | calls | ms per change | share |
|---|---:|---:|---:|
{rows}

In the same run: {rate:,.0f} changes/s; CPU per change: PostgreSQL {pg_ms:.2f} ms, hub
process {hub_ms:.2f} ms (as `bench.sync_throughput` counts them). A profile on a shared
2-core machine: read the shares, not the absolute times.
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.write_profile", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="4,000 changes instead of 20,000")
    args = parser.parse_args(argv)
    changes, warmup = (4_000, 500) if args.quick else (20_000, 1_000)
    statements, rate, pg_ms, hub_ms = asyncio.run(measure(changes, warmup))
    text = section(statements, changes, rate, pg_ms, hub_ms)
    print(text)
    write_section("write_profile" + (" quick" if args.quick else ""), text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
