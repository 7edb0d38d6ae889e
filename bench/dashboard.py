"""The dashboard's views over HTTP, each beside the GraphQL fields it is built on, one run.

``python -m bench.dashboard [--quick] [--reports N] [--runs N]`` uses the ministry
benchmark's database (``bench.ministry.prepare``: 1,000,000 seeded reports, 30,000
with ``--quick``, N with ``--reports``; reused when an earlier run left it), serves
under uvicorn on a loopback port the dashboard's routes (``hub.dashboard.pages``
``Dashboard``) and a GraphQL endpoint of the ministry's fields (``MinistryQuery``,
the resolvers the pages share), and times every
view for the year 2026 as the ministry and as a regency's coordinator, and the
GraphQL operation asking what the view shows, alternately, with one client. Any
answer but 200 (or a GraphQL answer with errors) stops the run and is reported as a
failure, never as a figure. The issue's target: p95 ≤ 300 ms for every view.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from importlib import metadata

import httpx
import strawberry
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.asgi import GraphQL

from bench.harness import ROOT, free_port, load_average, machine_facts, say, write_section
from bench.ministry import AS_OF, FULL, QUICK, SETTINGS, Plan, prepare
from hub.dashboard.pages import Dashboard
from hub.ministry.context import MinistryRequest
from hub.ministry.graphql import MinistryQuery
from hub.security.scopes import MINISTRY_READ, Principal
from hub.store.database import Database
from infra.postgres import EmbeddedPostgres

TARGET_MS = 300.0
YEAR = "from=2026-01-01&to=2027-01-01"
MINISTRY = Principal("bench-ministry", None, frozenset({MINISTRY_READ}))
REGENCY = Principal("bench-palembang", "16.71", frozenset({"node:16.71:read"}))

_STATS = "%s: statistics(period: $p, groupBy: %s) { currentTo ruleVersions total { received } "
_STATS += "groups { key suppressed figures { received verified disposed followedUp completed "
_STATS += "archived autoClosed } } }"
_SLA = "%s: slaCompliance(period: $p, groupBy: %s) { currentTo ruleVersions groups { key "
_SLA += "suppressed stages { stage met late overdue pending withinLimitShare medianWorkingDays "
_SLA += "p90WorkingDays } } }"
_RANKING = "ranking(period: $p) { entries { rank institutionCode suppressed received score "
_RANKING += "verifiedWithinLimit firstFollowUpWithinLimit completedWithinLimit completedShare "
_RANKING += "medianVerifyWorkingDays medianCompletionWorkingDays } }"


def _operation(*fields: str) -> str:
    return "query($p: PeriodInput!) { " + " ".join(fields) + " }"


@dataclass(frozen=True, slots=True)
class Pair:
    """A dashboard view and the GraphQL operation asking the fields it is built on."""

    view: str
    path: str
    role: str
    graphql: str | None


PAIRS = (
    Pair(
        "overview",
        f"/dashboard?{YEAR}",
        "ministry",
        _operation(
            _STATS % ("a", "KIND"),
            _SLA % ("b", "KIND"),
            _STATS % ("c", "REGION"),
            _SLA % ("d", "REGION"),
        ),
    ),
    Pair(
        "region 16.71",
        f"/dashboard/regions/16.71?{YEAR}",
        "ministry",
        _operation(
            _STATS % ("a", "REGION"),
            _SLA % ("b", "REGION"),
            _STATS % ("c", "INSTITUTION"),
            _SLA % ("d", "INSTITUTION"),
        ),
    ),
    Pair(
        "sla",
        f"/dashboard/sla?{YEAR}",
        "ministry",
        _operation(_SLA % ("a", "REGION"), _SLA % ("b", "INSTITUTION")),
    ),
    Pair("ranking", f"/dashboard/ranking?{YEAR}", "ministry", _operation(_RANKING)),
    Pair(
        "trend",
        f"/dashboard/trend?{YEAR}",
        "ministry",
        _operation(_STATS % ("a", "MONTH"), _SLA % ("b", "MONTH")),
    ),
    Pair("overdue", f"/dashboard/overdue?{YEAR}", "ministry", None),
    Pair("overview, regency", f"/dashboard?{YEAR}", "regency", None),
    Pair("trend, regency", f"/dashboard/trend?{YEAR}", "regency", None),
    Pair("overdue, regency", f"/dashboard/overdue?{YEAR}", "regency", None),
    Pair("region 16.71, regency", f"/dashboard/regions/16.71?{YEAR}", "regency", None),
    Pair("sla, regency", f"/dashboard/sla?{YEAR}", "regency", None),
    Pair("export overview.csv", f"/dashboard/export/overview.csv?{YEAR}", "ministry", None),
    Pair("export sla.xlsx", f"/dashboard/export/sla.xlsx?{YEAR}", "ministry", None),
)


def report_pairs(report_id: str) -> tuple[Pair, ...]:
    """The report page, for both roles, of one report of the regency: the one with the
    longest history of those submitted in 2026 (its history, disposition chain and
    deadlines are the page's longest lists)."""
    path = f"/dashboard/reports/{report_id}"
    return (Pair("report", path, "ministry", None), Pair("report, regency", path, "regency", None))


async def longest_history(db: Database) -> str:
    found = await db.pool.fetchval(
        "SELECT r.id::text FROM reports r JOIN report_history h ON h.report_id = r.id "
        "WHERE r.region_code = '16.71' AND r.submitted_at >= '2026-01-01' "
        "GROUP BY r.id ORDER BY count(*) DESC, r.id LIMIT 1"
    )
    if found is None:
        raise Failed("no report of 16.71 submitted in 2026 to show")
    return str(found)


class _As:
    """Bench-only: every request acts as the role its ``x-bench-role`` header names (the
    hub's Authenticate middleware puts a token's principal in the same place)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            role = dict(scope["headers"]).get(b"x-bench-role", b"ministry")
            scope.setdefault("state", {})["principal"] = REGENCY if role == b"regency" else MINISTRY
        await self.app(scope, receive, send)


@dataclass(slots=True)
class _Context:
    ministry: MinistryRequest


class _MinistryGraphQL(GraphQL[_Context, None]):
    def __init__(self, db: Database) -> None:
        super().__init__(strawberry.Schema(query=MinistryQuery), graphql_ide=None)
        self._db = db

    async def get_context(self, request: object, response: object) -> _Context:
        return _Context(MinistryRequest(self._db, SETTINGS, clock=lambda: AS_OF))


def app(db: Database) -> Starlette:
    dashboard = Dashboard(db, SETTINGS, lambda p: MINISTRY_READ in p.scopes, clock=lambda: AS_OF)
    graphql = _MinistryGraphQL(db)

    routes = [*dashboard.routes(), Route("/graphql", graphql, methods=["POST"])]
    starlette = Starlette(routes=routes)
    starlette.add_middleware(_As)
    return starlette


@dataclass(frozen=True, slots=True)
class Timing:
    name: str
    view_p50: float
    view_p95: float
    graphql_p50: float | None
    graphql_p95: float | None
    bytes: int


class Failed(Exception):
    """A request of the benchmark did not succeed: the run reports this, not a figure."""


def _p95(samples: Sequence[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]


async def _get(http: httpx.AsyncClient, pair: Pair) -> tuple[float, int]:
    started = time.perf_counter()
    response = await http.get(pair.path, headers={"x-bench-role": pair.role})
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise Failed(f"{pair.view}: GET {pair.path} answered {response.status_code}")
    return elapsed, len(response.content)


async def _post(http: httpx.AsyncClient, pair: Pair) -> float:
    assert pair.graphql is not None
    body = {"query": pair.graphql, "variables": {"p": {"from": "2026-01-01", "to": "2027-01-01"}}}
    started = time.perf_counter()
    response = await http.post("/graphql", json=body)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200 or "errors" in response.json():
        raise Failed(
            f"{pair.view}: its GraphQL answered {response.status_code}: "
            f"{json.dumps(response.json())[:300]}"
        )
    return elapsed


async def measure(url: str, plan: Plan) -> list[Timing]:
    db = Database(url, min_size=2, max_size=10)
    await db.open()
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app(db), host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                raise Failed(f"uvicorn did not start: {task.exception()}")
            await asyncio.sleep(0.05)
        timings = []
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            for pair in (*PAIRS, *report_pairs(await longest_history(db))):
                for _ in range(2):  # warm-up
                    await _get(http, pair)
                    if pair.graphql:
                        await _post(http, pair)
                views: list[float] = []
                fields: list[float] = []
                size = 0
                for _ in range(plan.runs):
                    elapsed, size = await _get(http, pair)
                    views.append(elapsed)
                    if pair.graphql:
                        fields.append(await _post(http, pair))
                timing = Timing(
                    pair.view,
                    statistics.median(views),
                    _p95(views),
                    statistics.median(fields) if fields else None,
                    _p95(fields) if fields else None,
                    size,
                )
                say(
                    f"{pair.view:22} view p50 {timing.view_p50:7.1f} p95 {timing.view_p95:7.1f} ms"
                    + (
                        f"   graphql p50 {timing.graphql_p50:7.1f} p95 {timing.graphql_p95:7.1f} ms"
                        if fields
                        else ""
                    )
                )
                timings.append(timing)
        return timings
    finally:
        server.should_exit = True
        await task
        await db.close()


def report(plan: Plan, timings: list[Timing], facts: dict[str, str]) -> str:
    worst = max(t.view_p95 for t in timings)
    met = worst <= TARGET_MS
    rows = "\n".join(
        f"| {t.name} | {t.view_p50:.1f} | {t.view_p95:.1f} | "
        + (
            f"{t.graphql_p50:.1f} | {t.graphql_p95:.1f} |"
            if t.graphql_p50 is not None and t.graphql_p95 is not None
            else "– | – |"
        )
        + f" {t.bytes:,} |"
        for t in timings
    )
    quick = plan.name == "quick"
    caveat = ""
    if quick:
        caveat = "\n_Quick mode: 30,000 reports, a smoke test; quote the full mode._\n"
    elif plan.reports != FULL.reports:
        caveat = (
            f"\n_{plan.reports:,} reports (`--reports`), not the issue's 1,000,000: these"
            " figures do not show the target at its size._\n"
        )
    return f"""\
## dashboard, {plan.name}{"" if plan.reports != FULL.reports and not quick else " mode"}
{caveat}
`{facts["command"]}`, {facts["date"]}.

- **Machine**: {facts["nproc"]} CPUs ({facts["cpu"]}), Python {facts["python"]};
  {facts["packages"]}. Load average before the run {facts["load before"]}, after
  {facts["load after"]}: the machine is shared, so other work ran meanwhile.
- **Data**: the ministry benchmark's database ({plan.reports:,} reports over 2025 and
  2026, `bench.ministry.prepare`).
- **Requests**: each view for the year 2026 (as of {AS_OF.date()}) over HTTP to uvicorn on
  loopback (one process, pool of 10, one client), the ministry's unless it says regency
  (`node:16.71:read`); beside it, in the same loop, one GraphQL operation asking the fields
  the view is built on (the overview: statistics and slaCompliance by kind and by region;
  the region: by region and by institution; sla: slaCompliance by region and by
  institution; ranking; trend: by month). The overdue list and the report page have no
  such GraphQL operation beside them; the report page is that of the regency's report with
  the longest history submitted in 2026; a regency's trend reads every month's figures by
  region at once (`MinistryQueries.each_month`). Two warm-up rounds, then {plan.runs} timed requests
  each. Any answer but 200, or a GraphQL answer with errors, stops the run.

| view (year 2026) | view p50 ms | view p95 ms | GraphQL p50 ms | GraphQL p95 ms | bytes |
|---|---:|---:|---:|---:|---:|
{rows}

Target p95 ≤ {TARGET_MS:.0f} ms for every view: **{"met" if met else "not met"}** (worst p95
{worst:.1f} ms).
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dashboard", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="30,000 reports, fewer runs")
    parser.add_argument(
        "--reports",
        type=int,
        help="this many reports instead (a size between the two, for a machine that cannot "
        "seed a million in the time it has); its own database, kept for the next run",
    )
    parser.add_argument("--runs", type=int, help="timed requests per view (default: the mode's)")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.reports:
        plan = replace(plan, name=f"{args.reports:,} reports", reports=args.reports)
    if args.runs:
        plan = replace(plan, runs=args.runs)
    started = time.perf_counter()
    facts = machine_facts()
    facts["packages"] = ", ".join(
        f"{name} {metadata.version(name)}" for name in ("starlette", "jinja2", "asyncpg")
    )
    facts["load before"] = load_average()
    given = list(argv if argv is not None else sys.argv[1:])
    facts["command"] = " ".join(["python -m bench.dashboard", *given])
    postgres = EmbeddedPostgres(ROOT / ".sp4n" / "bench-ministry-postgres", durable=False)
    say("starting PostgreSQL")
    server_url = postgres.start()
    try:
        url, _, _ = asyncio.run(prepare(server_url, plan.reports))
        timings = asyncio.run(measure(url, plan))
    except Failed as failure:
        say(f"FAILED: {failure}")
        print(f"bench.dashboard failed: {failure}", file=sys.stderr)
        return 1
    finally:
        say("stopping PostgreSQL")
        postgres.stop()
    facts["load after"] = load_average()
    section = report(plan, timings, facts)
    write_section(f"dashboard {plan.name}".replace(",", ""), section)
    print(section)
    say(f"done in {time.perf_counter() - started:.0f} s; results in bench/RESULTS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
