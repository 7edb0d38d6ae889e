"""Initial sync: the hub's first pull of every node against a raw COPY of the same rows.

``python -m bench.initial_sync [--quick]`` starts an embedded PostgreSQL (or uses
``DATABASE_URL``'s server), fills the sandbox nodes with 200,000 reports in all
(20,000 with ``--quick``) spread over the 17 pulling nodes (15 served over HTTP
from memory, 2 database-only nodes seeded with COPY), served from a child process
(the regencies' systems are other machines; the hub keeps its own core), and then,
in alternating rounds on a fresh index each time:

- **hub**: ``Ingest.pull_once`` of every pulling node at once, as ``sp4n-hub sync
  --once`` runs it on an empty index: connectors page over HTTP (and SQL for the
  database nodes), each page mapped and validated, planned and written set-wise by
  ``hub.ingest.initial`` with its watermark and audit entry, the roll-ups refreshed
  beside it (the round ends when they are complete);
- **raw COPY**: ``copy_records_to_table`` of the rows the hub wrote to ``reports``
  into a plain table shaped like it (``LIKE reports``: no indexes, no triggers).

Pages are as large as the sandbox nodes allow (500 for REST and LAPOR!, 1,000 for
Open311 and GraphQL, 2,000 for the database nodes). A last, unmeasured pass pulls
without writing and plans without writing, to split the time into pulling (HTTP,
JSON, mapping), planning, the roll-ups (one pass over every report, rolled back)
and writing. Targets (issue 4 item 9): at least 20,000
reports/s and at least 25 % of the raw COPY rate.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import math
import os
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg

from bench.harness import (
    ROOT,
    CpuMeter,
    CpuUse,
    load_average,
    machine_facts,
    parent_of,
    say,
    write_section,
)
from bench.sandbox_process import SandboxProcess
from connectors.change import ChangePage
from connectors.config import NodeTable
from connectors.errors import ConnectorError
from connectors.federation import Federation
from connectors.resilience import ResiliencePolicy
from connectors.sandbox.sandbox import LAYOUT
from hub import wiring
from hub.domain.service import ReportService
from hub.ingest.initial import InitialSync, PageResult
from hub.ingest.plan import plan_page
from hub.ingest.pull import Ingest
from hub.security.audit import AuditLog
from hub.settings import Settings
from hub.store.database import Database, with_database
from infra.postgres import EmbeddedPostgres

TARGET_RATE = 20_000.0
TARGET_SHARE = 0.25
PAGE_SIZES = {"open311": 1000, "rest": 500, "graphql": 1000, "lapor": 500, "postgres": 2000}
TIMEOUT = 30.0
"""Every node's call timeout here: the sandbox process answers a page of 1,000 reports on the
same two cores as the hub and PostgreSQL, and took over the shipped 5 s under load."""
SHIPPED_TIMEOUT = ResiliencePolicy().timeout
SANDBOX_DB = "sp4n_bench_initial_sandbox"
TEMPLATE_DB = "sp4n_bench_initial_template"
INDEX_DB = "sp4n_bench_initial_index"


@dataclass(frozen=True, slots=True)
class Plan:
    name: str
    reports: int
    rounds: int


FULL = Plan("initial sync", 200_000, 3)
QUICK = Plan("initial sync (quick)", 20_000, 3)


@dataclass(slots=True)
class TimedSync(InitialSync):
    """The hub's own import, with the wall time spent inside ``import_page`` summed."""

    seconds: float = 0.0

    async def import_page(self, node: str, page: ChangePage) -> PageResult:
        started = time.perf_counter()
        try:
            # slots=True recreates the class, which zero-argument super() cannot see
            return await InitialSync.import_page(self, node, page)
        finally:
            self.seconds += time.perf_counter() - started


async def postmaster_of(url: str) -> int | None:
    """The PostgreSQL server's main process, when it runs on this machine."""
    conn = await asyncpg.connect(url)
    try:  # read while the backend still runs: it ends with the connection
        return parent_of(int(await conn.fetchval("SELECT pg_backend_pid()")))
    finally:
        await conn.close()


@dataclass(slots=True)
class Round:
    hub_seconds: float
    hub_reports: int
    import_seconds: float
    raw_seconds: float
    raw_rows: int
    cpu: CpuUse

    @property
    def hub_rate(self) -> float:
        return self.hub_reports / self.hub_seconds

    @property
    def raw_rate(self) -> float:
        return self.raw_rows / self.raw_seconds


@dataclass(slots=True)
class Breakdown:
    pull_seconds: float = 0.0
    pages: int = 0
    changes: int = 0
    plan_seconds: float = 0.0
    rollup_seconds: float = 0.0
    rollup_reports: int = 0
    per_kind: dict[str, float] = field(default_factory=dict)


async def recreate(admin: asyncpg.Connection, name: str, template: str | None = None) -> None:
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    suffix = f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""
    await admin.execute(f'CREATE DATABASE "{name}"{suffix}')


def big_pages(table: NodeTable, timeout: float) -> NodeTable:
    """The sandbox's node table with the largest pages each kind allows, and every
    node's call timeout ``timeout`` seconds."""
    for config in table:
        resilience = dataclasses.replace(config.resilience, timeout=timeout)
        table = table.with_node(config.code, resilience=resilience)
        if config.kind in PAGE_SIZES:
            options = {**config.options, "page_size": PAGE_SIZES[config.kind]}
            table = table.with_node(config.code, options=options)
    return table


def federation_for(db: Database, table: NodeTable) -> Federation:
    return wiring.federation(db, Settings(), env={}, node_table=table)


async def measure_hub(
    url: str, table: NodeTable, sandbox: SandboxProcess, postmaster: int | None
) -> tuple[float, int, float, CpuUse]:
    """One initial sync of every pulling node: (seconds, reports indexed, import seconds,
    CPU used meanwhile)."""
    db = Database(url, min_size=2, max_size=8)
    await db.open()
    try:
        ingest = Ingest(db, ReportService(db), federation_for(db, table))
        timed = TimedSync(db, ingest.clock, ingest.initial.audit)
        ingest.initial = timed
        await ingest.federation.start()
        try:
            await timed.reference()  # reference data once, outside the clock
            meter = CpuMeter(postmaster, sandbox=sandbox.cpu_seconds)
            before = meter.snapshot()
            started = time.perf_counter()
            await asyncio.gather(*(ingest.pull_once(c) for c in ingest.pulling()))
            seconds = time.perf_counter() - started
            cpu = meter.since(before)
        finally:
            await ingest.federation.stop()
        count = int(await db.pool.fetchval("SELECT count(*) FROM reports"))
        return seconds, count, timed.seconds, cpu
    finally:
        await db.close()


async def report_rows(url: str) -> list[tuple[object, ...]]:
    conn = await asyncpg.connect(url)
    try:
        return [tuple(r.values()) for r in await conn.fetch("SELECT * FROM reports")]
    finally:
        await conn.close()


async def measure_raw(url: str, rows: list[tuple[object, ...]]) -> float:
    """COPY of ``rows`` into a fresh plain table shaped like ``reports``."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("DROP TABLE IF EXISTS raw_reports")
        await conn.execute("CREATE TABLE raw_reports (LIKE reports)")
        started = time.perf_counter()
        await conn.copy_records_to_table("raw_reports", records=rows)
        return time.perf_counter() - started
    finally:
        await conn.close()


async def rollups_alone(url: str) -> tuple[float, int]:
    """The ministry roll-ups of every indexed report, computed afresh in one set-wise
    pass (what the import's refreshes add up to), then rolled back."""
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.execute(
                "TRUNCATE ministry_facts, ministry_counts, ministry_stage_ended, "
                "ministry_stage_open_total, ministry_stage_open"
            )
            ids = [r["id"] for r in await conn.fetch("SELECT id FROM reports")]
            started = time.perf_counter()
            await conn.execute("SELECT ministry_refresh($1::uuid[])", ids)
            seconds = time.perf_counter() - started
            raise _RollBack
    except _RollBack:
        return seconds, len(ids)
    finally:
        await conn.close()


class _RollBack(Exception):
    """Leaves a measuring transaction without keeping what it did."""


async def breakdown(url: str, table: NodeTable) -> Breakdown:
    """Pulls every node without writing (HTTP, JSON, mapping), then plans every page."""
    found = Breakdown()
    db = Database(url, min_size=1, max_size=2)
    await db.open()
    try:
        federation = federation_for(db, table)
        pages: list[ChangePage] = []

        async def pull(code: str) -> None:
            started = time.perf_counter()
            async for page in federation[code].pull(None):
                pages.append(page)
            kind = federation[code].config.kind
            found.per_kind[kind] = found.per_kind.get(kind, 0.0) + time.perf_counter() - started

        await federation.start()
        try:
            started = time.perf_counter()
            pulling = [c.node_code for c in federation if c.config.kind != "push"]
            await asyncio.gather(*(pull(code) for code in pulling))
            found.pull_seconds = time.perf_counter() - started
        finally:
            await federation.stop()
        reference = await InitialSync(db, lambda: datetime.now(UTC), AuditLog(db)).reference()
        started = time.perf_counter()
        for page in pages:
            plan_page(page.changes, reference, datetime.now(UTC))
        found.plan_seconds = time.perf_counter() - started
        found.rollup_seconds, found.rollup_reports = await rollups_alone(url)
        found.pages = sum(1 for p in pages if p.changes)
        found.changes = sum(len(p.changes) for p in pages)
        return found
    finally:
        await db.close()


async def run(
    server_url: str, plan: Plan, node_timeout: float
) -> tuple[list[Round], Breakdown, float, int]:
    """Seeds the sandbox, then alternates hub and raw rounds on fresh databases."""
    pulling = [n for n, p in LAYOUT.items() if p != "push"]
    per_node = math.ceil(plan.reports / len(pulling))
    admin = await asyncpg.connect(server_url)
    try:
        await recreate(admin, SANDBOX_DB)
        await recreate(admin, TEMPLATE_DB)
        template = Database(with_database(server_url, TEMPLATE_DB), min_size=1, max_size=1)
        await template.open()
        try:
            await template.migrate()
        finally:
            await template.close()
        say(f"seeding {per_node:,} reports in each of {len(pulling)} sandbox nodes")
        started = time.perf_counter()
        sandbox = SandboxProcess(
            reports_per_node=per_node, postgres_url=with_database(server_url, SANDBOX_DB)
        )
        with sandbox:
            seed_seconds = time.perf_counter() - started
            table = big_pages(sandbox.node_table(), node_timeout)
            url = with_database(server_url, INDEX_DB)
            rows: list[tuple[object, ...]] = []
            rounds = []
            postmaster = await postmaster_of(server_url)
            for number in range(1, plan.rounds + 1):
                await recreate(admin, INDEX_DB, TEMPLATE_DB)
                hub_seconds, count, import_seconds, cpu = await measure_hub(
                    url, table, sandbox, postmaster
                )
                if not rows:
                    rows = await report_rows(url)
                raw_seconds = await measure_raw(url, rows)
                rounds.append(
                    Round(hub_seconds, count, import_seconds, raw_seconds, len(rows), cpu)
                )
                say(
                    f"round {number}/{plan.rounds}: hub {count / hub_seconds:,.0f} reports/s "
                    f"({hub_seconds:.1f} s), raw COPY {len(rows) / raw_seconds:,.0f} rows/s"
                )
            say("breakdown: pulling without writing, planning without writing")
            found = await breakdown(url, table)
        await admin.execute(f'DROP DATABASE IF EXISTS "{INDEX_DB}" WITH (FORCE)')
        await admin.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}" WITH (FORCE)')
        await admin.execute(f'DROP DATABASE IF EXISTS "{SANDBOX_DB}" WITH (FORCE)')
        return rounds, found, seed_seconds, per_node * len(pulling)
    finally:
        await admin.close()


def report(
    plan: Plan,
    rounds: list[Round],
    found: Breakdown,
    seed_seconds: float,
    held: int,
    facts: dict[str, str],
) -> str:
    hub = statistics.median(r.hub_rate for r in rounds)
    raw = statistics.median(r.raw_rate for r in rounds)
    share = hub / raw
    seconds = statistics.median(r.hub_seconds for r in rounds)
    importing = statistics.median(r.import_seconds for r in rounds)
    middle = sorted(rounds, key=lambda r: r.hub_seconds)[len(rounds) // 2]
    cpu, cores = middle.cpu, os.cpu_count() or 1
    indexed = rounds[0].hub_reports

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    lines = [
        f"## Initial sync: {plan.reports:,} reports from the sandbox nodes",
        "",
        f"`python -m bench.initial_sync{' --quick' if plan is QUICK else ''}`, "
        f"{plan.rounds} rounds alternating hub and raw COPY on a fresh index each; medians.",
        "",
        "| | median | lowest | highest |",
        "|---|---:|---:|---:|",
        f"| hub initial sync, reports/s | {hub:,.0f} | {min(r.hub_rate for r in rounds):,.0f} "
        f"| {max(r.hub_rate for r in rounds):,.0f} |",
        f"| raw `copy_records_to_table`, rows/s | {raw:,.0f} "
        f"| {min(r.raw_rate for r in rounds):,.0f} | {max(r.raw_rate for r in rounds):,.0f} |",
        f"| hub / raw | {share:.1%} | | |",
        "",
        f"- Target ≥ {TARGET_RATE:,.0f} reports/s: {verdict(hub >= TARGET_RATE)}. "
        f"Target ≥ {TARGET_SHARE:.0%} of the raw COPY rate: {verdict(share >= TARGET_SHARE)}.",
        f"- The sandbox held {held:,} reports over 17 pulling nodes (seeded in "
        f"{seed_seconds:.1f} s); the hub indexed {indexed:,} per round, in {seconds:.1f} s "
        "(median), every node pulled at once as `sp4n-hub sync --once` does. The sandbox "
        "nodes are served from a child process (`bench/sandbox_process.py`), as the "
        "regencies' systems are other machines; on this machine they still share its cores "
        "with the hub and PostgreSQL.",
        "- What one hub round writes per report: the report, its external ref, its reporter "
        "when the node names one, one history row per command the per-change path would "
        "run (submit and the moves to the node's state), dispositions and follow-ups, "
        "review items; per page one audit entry and the watermark. The ministry roll-ups of "
        "the imported reports are refreshed beside the import, from the pending list the "
        "pages leave, and are complete when the round ends. No outbox rows "
        "(hub/ingest/initial.py).",
        "- The raw COPY writes only the final `reports` rows into a table with no index, "
        "constraint beyond NOT NULL, or trigger.",
        "",
        "Where the time goes (wall seconds; nodes run concurrently, so parts overlap):",
        "",
        "| part | seconds |",
        "|---|---:|",
        f"| whole initial sync (median round) | {seconds:.1f} |",
        "| inside `InitialSync.import_page`, summed over the 17 concurrent nodes "
        f"(plan + SQL + waiting for locks and the event loop; overlaps) | {importing:.1f} |",
        f"| pulling alone, no writes: HTTP, JSON, mapping to `ExternalChange` "
        f"({found.changes:,} changes, {found.pages:,} pages) | {found.pull_seconds:.1f} |",
        f"| planning alone (`plan_page`, in memory, one core) | {found.plan_seconds:.1f} |",
        f"| ministry roll-ups alone: `ministry_refresh` of the {found.rollup_reports:,} "
        f"reports in one pass (in PostgreSQL) | {found.rollup_seconds:.1f} |",
        "",
        f"CPU in the median round ({middle.hub_seconds:.1f} s wall, so "
        f"{cores * middle.hub_seconds:.1f} CPU seconds on {cores} cores): hub process "
        f"{cpu.seconds(cpu.hub):.1f} s, sandbox process {cpu.seconds(cpu.sandbox):.1f} s, "
        f"PostgreSQL {cpu.seconds(cpu.postgres):.1f} s (0 when not on this machine), "
        f"anything else {cpu.seconds(cpu.other):.1f} s; the machine was busy "
        f"{cpu.machine / cores:.0%} of the time.",
        "",
        "Pulling alone, per node kind (summed over that kind's nodes): "
        + ", ".join(f"{k} {v:.1f} s" for k, v in sorted(found.per_kind.items()))
        + ".",
        "",
        "Machine: " + "; ".join(f"{k}: {v}" for k, v in facts.items()) + ".",
    ]
    return "\n".join(lines)


def failed(plan: Plan, error: ConnectorError, facts: dict[str, str]) -> str:
    return "\n".join(
        [
            f"## Initial sync: {plan.reports:,} reports from the sandbox nodes: FAILED",
            "",
            f"`python -m bench.initial_sync{' --quick' if plan is QUICK else ''}` stopped: "
            f"a pull failed ({type(error).__name__}: {error}), so no round is reported.",
            "",
            "Machine: " + "; ".join(f"{k}: {v}" for k, v in facts.items()) + ".",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the benchmark; returns the process exit status."""
    parser = argparse.ArgumentParser(prog="python -m bench.initial_sync", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="20,000 reports, 3 rounds")
    parser.add_argument(
        "--timeout",
        type=float,
        default=TIMEOUT,
        help=f"every node's call timeout in seconds (default {TIMEOUT:.0f}; shipped: "
        f"{SHIPPED_TIMEOUT:.0f}): the sandbox serves its pages on the same cores",
    )
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    facts = machine_facts(("asyncpg", "httpx", "uvicorn", "starlette"))
    del facts["uvicorn options"]
    facts["load before"] = load_average()
    given = os.environ.get("DATABASE_URL")
    postgres = None
    if given:
        server_url = given
    else:
        postgres = EmbeddedPostgres(ROOT / ".sp4n" / "bench-initial-postgres", durable=False)
        say("starting PostgreSQL")
        server_url = postgres.start()
    facts["node call timeout"] = f"{args.timeout:.0f} s (shipped: {SHIPPED_TIMEOUT:.0f} s)"
    try:
        rounds, found, seed_seconds, held = asyncio.run(run(server_url, plan, args.timeout))
    except ConnectorError as error:
        # A node that did not answer fails the round: the failure, never a figure.
        facts["load after"] = load_average()
        section = failed(plan, error, facts)
        write_section(plan.name, section)
        print(section)
        return 1
    finally:
        if postgres is not None:
            say("stopping PostgreSQL")
            postgres.stop()
    facts["load after"] = load_average()
    facts["postgres"] = "DATABASE_URL" if given else "embedded (durable=False)"
    section = report(plan, rounds, found, seed_seconds, held, facts)
    write_section(plan.name, section)
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
