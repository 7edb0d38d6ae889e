"""The ministry's figures for a whole year: roll-ups against the naive GROUP BY, one run.

``python -m bench.ministry [--quick]`` starts an embedded PostgreSQL, seeds it
(1,000,000 reports; 30,000 with ``--quick``) over the two years before 1 January
2027 with ``hub.demo.seed.seed_reports`` inside ``deferred_rollups`` (the roll-ups are
built once at the end instead of projected report by report), then runs every ministry
query for the year 2026 through GraphQL (``MinistryQuery`` in a schema of its own,
parse, validate, execute, SQL) twice over: with the roll-ups, and with the naive
GROUP BY over reports and report_history. Both must answer the same JSON. It
also times the CSV export, the deadlines of a page of reports, a write, and what
projecting one report costs. The issue's target: p95 ≤ 200 ms warm for every query.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from typing import Any

import asyncpg
import httpx
import strawberry
from starlette.applications import Starlette

from bench.harness import ROOT, load_average, machine_facts, say, write_section
from hub.demo.seed import seed_reports, seeded_count
from hub.domain.commands import Actor, FollowUp
from hub.domain.service import ReportService
from hub.ministry.bulk import deferred_rollups
from hub.ministry.calendar import CalendarStore
from hub.ministry.context import MinistryRequest
from hub.ministry.export import ministry_routes
from hub.ministry.graphql import MinistryQuery
from hub.ministry.settings import MinistrySettings
from hub.ministry.sources import NaiveSource
from hub.store.database import Database
from infra.postgres import EmbeddedPostgres
from schema.calendar import WIB
from schema.regions import PROVINCE_CODE
from schema.report import ActorRole

NOW = datetime(2027, 1, 1, tzinfo=WIB)
"""The seed's "now": two years of reports, 2025 and 2026, the later year busier."""
AS_OF = datetime(2027, 1, 4, 9, 0, tzinfo=WIB)
"""The day the figures are asked for: running stages past due by then are overdue."""
YEAR = {"from": "2026-01-01", "to": "2027-01-01"}
TARGET_MS = 200.0
SETTINGS = MinistrySettings()


@dataclass(frozen=True, slots=True)
class Plan:
    name: str
    reports: int
    runs: int
    """Timed runs per query on the roll-ups, after two warm-up runs."""
    naive_runs: int


FULL = Plan("full", reports=1_000_000, runs=40, naive_runs=1)
QUICK = Plan("quick", reports=30_000, runs=12, naive_runs=1)

GROUPS = ("REGION", "INSTITUTION", "KIND", "TOPIC", "STATE", "MONTH")
_STATISTICS = """query($p: PeriodInput!) { statistics(period: $p, groupBy: %s) {
  ruleVersions total { received verified completed archived redispositions }
  groups { key label suppressed figures { received anonymous confidential verified disposed
           followedUp completed autoClosed archived redisposed redispositions } } } }"""
_SLA = """query($p: PeriodInput!) { slaCompliance(period: $p, groupBy: %s) {
  asOf ruleVersions total { stage met late overdue pending withinLimitShare medianWorkingDays
                             p90WorkingDays }
  groups { key suppressed stages { stage met late overdue pending withinLimitShare
                                   medianWorkingDays p90WorkingDays } } } }"""
_RANKING = """query($p: PeriodInput!) { ranking(period: $p%s) { entries { rank
  institutionCode suppressed received score verifiedWithinLimit firstFollowUpWithinLimit
  completedWithinLimit completedShare archivedOrRedisposedShare anonymousShare
  confidentialShare medianVerifyWorkingDays medianFirstFollowUpWorkingDays
  medianCompletionWorkingDays redispositions } } }"""


def queries() -> dict[str, str]:
    found = {f"statistics {g}": _STATISTICS % g for g in GROUPS}
    found |= {f"slaCompliance {g}": _SLA % g for g in GROUPS}
    found["ranking (all levels)"] = _RANKING % ""
    for level in ("REGENCY_GOVERNMENT", "PROVINCIAL_OPD", "NATIONAL"):
        found[f"ranking {level}"] = _RANKING % f", level: {level}"
    return found


@dataclass(slots=True)
class _Context:
    ministry: MinistryRequest


@dataclass(frozen=True, slots=True)
class Timing:
    name: str
    p50_ms: float
    p95_ms: float
    naive_ms: float | None
    same: bool | None


def _p95(samples: Sequence[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]


async def _time(run: Callable[[], Awaitable[object]], count: int) -> tuple[list[float], object]:
    result: object = None
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        result = await run()
        samples.append((time.perf_counter() - started) * 1000)
    return samples, result


async def prepare(server_url: str, count: int) -> tuple[str, float | None, float | None]:
    """A migrated database with ``count`` seeded reports; reused when it has them.

    Returns its URL, the seconds the seed took and the seconds of the one roll-up
    build at its end (both None when reused).
    """
    name = f"sp4n_ministry_bench_{count}"
    url = f"{server_url.rpartition('/')[0]}/{name}"
    admin = await asyncpg.connect(server_url)
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            # An identifier built from an int: it cannot be a parameter.
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    db = Database(url, min_size=1, max_size=2)
    await db.open()
    try:
        await db.migrate()
        async with db.pool.acquire() as conn:
            have = await seeded_count(conn)
        if have == count:
            say(f"reusing {name} ({have:,} reports)")
            return url, None, None
        if have:
            raise RuntimeError(f"{name} holds {have:,} reports, not {count:,}; drop it")
        # The holidays first, on an empty index: the one roll-up build then uses them.
        await CalendarStore(db).sync()
        say(f"seeding {count:,} reports into {name}, roll-ups built once at the end")
        started = time.perf_counter()
        async with db.pool.acquire() as conn:
            async with deferred_rollups(conn):
                await seed_reports(conn, count, now=NOW, progress=_progress(count))
                seeded = time.perf_counter()
                say(f"  seeded in {seeded - started:.0f} s; building the roll-ups")
            built = time.perf_counter() - seeded
            await conn.execute("ANALYZE")
        say(f"  roll-ups built in {built:.0f} s")
        return url, seeded - started, built
    finally:
        await db.close()


def _progress(count: int) -> Callable[[int], None]:
    step = max(count // 10, 1)

    def report(done: int) -> None:
        if done % step == 0:
            say(f"  {done:,}/{count:,}")

    return report


async def measure(url: str, plan: Plan) -> tuple[list[Timing], dict[str, float]]:
    db = Database(url, min_size=2, max_size=10)
    await db.open()
    try:
        schema = strawberry.Schema(query=MinistryQuery)
        clock = lambda: AS_OF  # noqa: E731

        async def run(query: str, naive: bool) -> Any:
            source = NaiveSource(db) if naive else None
            context = _Context(MinistryRequest(db, SETTINGS, source=source, clock=clock))
            result = await schema.execute(query, {"p": YEAR}, context_value=context)
            if result.errors:
                raise RuntimeError(f"{query}: {result.errors}")
            return result.data

        timings = []
        for name, query in queries().items():
            await run(query, naive=False)
            await run(query, naive=False)
            samples, fast = await _time(functools.partial(run, query, False), plan.runs)
            naive, slow = await _time(functools.partial(run, query, True), plan.naive_runs)
            same = json.dumps(fast, sort_keys=True) == json.dumps(slow, sort_keys=True)
            timing = Timing(
                name, statistics.median(samples), _p95(samples), statistics.median(naive), same
            )
            say(
                f"{name:32} p50 {timing.p50_ms:7.1f} ms  p95 {timing.p95_ms:7.1f} ms  "
                f"naive {timing.naive_ms:9.1f} ms  same answer: {same}"
            )
            if not same:
                raise RuntimeError(f"{name}: the roll-ups and the naive GROUP BY disagree")
            timings.append(timing)
        timings.append(await _export(db, plan))
        timings.append(await _deadlines(db, plan))
        return timings, await _writes(db)
    finally:
        await db.close()


async def _export(db: Database, plan: Plan) -> Timing:
    routes = ministry_routes(db, SETTINGS, clock=lambda: AS_OF)
    transport = httpx.ASGITransport(app=Starlette(routes=routes))
    path = "/export/sla-compliance.csv?from=2026-01-01&to=2027-01-01&groupBy=institution"
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:

        async def get() -> str:
            response = await http.get(path)
            response.raise_for_status()
            return response.text

        await get()
        samples, _ = await _time(get, plan.runs)
    return _timing("export sla-compliance.csv INSTITUTION", samples)


async def _deadlines(db: Database, plan: Plan) -> Timing:
    """``deadlines`` and ``overdue`` of a page of 50 reports: one statement."""
    async with db.pool.acquire() as conn:
        rows = await conn.fetch(_NEWEST)
    ids = [r["id"] for r in rows]

    async def load() -> object:
        request = MinistryRequest(db, SETTINGS, clock=lambda: AS_OF)
        return await request.deadlines.load_many(ids)

    samples, _ = await _time(load, plan.runs)
    return _timing("deadlines of 50 reports", samples)


def _timing(name: str, samples: list[float]) -> Timing:
    timing = Timing(name, statistics.median(samples), _p95(samples), None, None)
    say(f"{name:38} p50 {timing.p50_ms:7.1f} ms  p95 {timing.p95_ms:7.1f} ms")
    return timing


# Bench-only reads of the bench database, not queries of the hub.
_NEWEST = "SELECT id FROM reports ORDER BY submitted_at DESC LIMIT 50"
_FOLLOWING = "SELECT id, version FROM reports WHERE state = 'IN_FOLLOW_UP' ORDER BY id LIMIT 100"
_SIZES = """SELECT (SELECT count(*) FROM ministry_facts) AS facts,
                   (SELECT count(*) FROM ministry_counts) AS counts,
                   (SELECT count(*) FROM ministry_stage_ended) AS ended,
                   (SELECT count(*) FROM ministry_stage_open) AS open"""


async def _writes(db: Database) -> dict[str, float]:
    """100 follow-ups through the write path (which no longer maintains the roll-ups),
    and what projecting one report costs (``ministry_refresh`` of one report) on its own."""
    service = ReportService(db, clock=lambda: AS_OF)
    actor = Actor(PROVINCE_CODE, ActorRole.LIAISON_ADMIN, everywhere=True)
    async with db.pool.acquire() as conn:
        rows = await conn.fetch(_FOLLOWING)
    writes = []
    for row in rows:
        started = time.perf_counter()
        await service.execute(
            FollowUp(row["id"], "Tindak lanjut lanjutan (bench)."),
            actor,
            expected_version=row["version"],
        )
        writes.append((time.perf_counter() - started) * 1000)
    refreshes = []
    async with db.session() as session:
        for row in rows:
            started = time.perf_counter()
            await session.execute("ministry_refresh", [row["id"]])
            refreshes.append((time.perf_counter() - started) * 1000)
        sizes = dict(await session.raw.fetchrow(_SIZES) or {})
    say(
        f"a follow-up through the write path: p50 {statistics.median(writes):.1f} ms, "
        f"p95 {_p95(writes):.1f} ms; the projection's refresh of one report p50 "
        f"{statistics.median(refreshes):.1f} ms"
    )
    return {
        "write_p50": statistics.median(writes),
        "write_p95": _p95(writes),
        "refresh_p50": statistics.median(refreshes),
        "refresh_p95": _p95(refreshes),
        **{f"rows_{k}": float(v) for k, v in sizes.items()},
    }


def report(
    plan: Plan,
    timings: list[Timing],
    writes: dict[str, float],
    facts: dict[str, str],
    seed_seconds: float | None,
    build_seconds: float | None,
) -> str:
    """The RESULTS.md section of this run."""
    worst = max(t.p95_ms for t in timings)
    met = all(t.p95_ms <= TARGET_MS for t in timings)
    seeded = (
        f"seeded in this run in {seed_seconds:.0f} s, roll-ups then built in one pass in "
        f"{build_seconds:.0f} s"
        if seed_seconds is not None and build_seconds is not None
        else "reused from an earlier run of this benchmark"
    )
    rows = "\n".join(
        f"| {t.name} | {t.p50_ms:.1f} | {t.p95_ms:.1f} | "
        + (f"{t.naive_ms:,.0f} | {t.naive_ms / t.p50_ms:,.0f}x |" if t.naive_ms else "– | – |")
        + (" yes |" if t.same else " – |")
        for t in timings
    )
    quick = plan.name == "quick"
    caveat = "\n_Quick mode: 30,000 reports, a smoke test; quote the full mode._\n" if quick else ""
    return f"""\
## ministry, {plan.name} mode
{caveat}
`python -m bench.ministry{" --quick" if quick else ""}`, {facts["date"]}.

- **Machine**: {facts["nproc"]} CPUs ({facts["cpu"]}), Python {facts["python"]};
  {facts["packages"]}. Load average before the run {facts["load before"]}, after
  {facts["load after"]}: the machine is shared, so other work ran meanwhile.
- **Data**: an embedded PostgreSQL 18 (`durable=False`) holding {plan.reports:,} reports
  from `hub.demo.seed.seed_reports` over 2025 and 2026 ({seeded}); roll-up rows:
  {writes["rows_counts"]:,.0f} counts, {writes["rows_ended"]:,.0f} ended-stage and
  {writes["rows_open"]:,.0f} running-stage histogram rows, {writes["rows_facts"]:,.0f} fact rows.
- **Queries**: every ministry query for the year 2026 (period [2026-01-01, 2027-01-01)
  WIB, as of {AS_OF.date()}), executed through GraphQL in process (`MinistryQuery` in its own
  `strawberry.Schema`: parse, validate, execute, SQL over a pool of 10), one client, after
  two warm-up runs: {plan.runs} timed runs on the roll-ups, {plan.naive_runs} with the naive
  GROUP BY over `reports` and `report_history` (the same resolvers, `NaiveSource`).
  "same answer": both gave identical JSON.
- **Writes**: a follow-up through `ReportService.execute` (the roll-ups are projected
  afterwards, not in the write): p50 {writes["write_p50"]:.1f} ms, p95
  {writes["write_p95"]:.1f} ms over 100 reports; projecting one report
  (`ministry_refresh`) p50 {writes["refresh_p50"]:.1f} ms,
  p95 {writes["refresh_p95"]:.1f} ms.

| query (year 2026) | p50 ms | p95 ms | naive ms | naive / p50 | same answer |
|---|---:|---:|---:|---:|:---:|
{rows}

Target p95 ≤ {TARGET_MS:.0f} ms for every query: **{"met" if met else "not met"}** (worst p95
{worst:.1f} ms).
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the benchmark; returns the process exit status."""
    parser = argparse.ArgumentParser(prog="python -m bench.ministry", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="30,000 reports and fewer runs (under 2 minutes)"
    )
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    started = time.perf_counter()
    facts = machine_facts()
    facts["packages"] = ", ".join(
        f"{name} {metadata.version(name)}" for name in ("strawberry-graphql", "asyncpg", "holidays")
    )
    facts["load before"] = load_average()
    postgres = EmbeddedPostgres(ROOT / ".sp4n" / "bench-ministry-postgres", durable=False)
    say("starting PostgreSQL")
    server_url = postgres.start()
    try:
        url, seed_seconds, build_seconds = asyncio.run(prepare(server_url, plan.reports))
        timings, writes = asyncio.run(measure(url, plan))
    finally:
        say("stopping PostgreSQL")
        postgres.stop()
    facts["load after"] = load_average()
    section = report(plan, timings, writes, facts, seed_seconds, build_seconds)
    write_section(f"ministry {plan.name}", section)
    print(section)
    say(f"done in {time.perf_counter() - started:.0f} s; results in bench/RESULTS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
