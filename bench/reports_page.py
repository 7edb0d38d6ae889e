"""The first page of reports, three ways, in one run: the hub against its two bounds.

``python -m bench.reports_page [--quick]`` serves, each in its own uvicorn process:

* **hub**: the hub's ``POST /graphql`` over a PostgreSQL holding the seeded
  demo data set (100,000 reports; 20,000 with ``--quick``);
* **(a) static**: a Starlette endpoint returning the hub's exact response bytes,
  the ceiling of the HTTP stack;
* **(b) plain strawberry**: a strawberry schema of its own with the same fields,
  resolving the same 50 reports from memory.

It checks that the three answer the same JSON, then loads them with wrk in
alternating rounds so machine noise hits all three alike, and writes the table
to ``bench/RESULTS.md``. The issue's target: hub at least 0.6 times (b).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass

import asyncpg

from bench.apps import FIXTURE_ENV
from bench.harness import (
    ROOT,
    WORK_DIR,
    Round,
    Server,
    Summary,
    Wrk,
    load_average,
    machine_facts,
    post,
    say,
    write_section,
)
from hub.seed import seed_reports, seeded_count
from hub.store.database import Database
from infra.postgres import EmbeddedPostgres

QUERY = (
    "{ reports(first: 50) { edges { node { id title kind state stateLabel version submittedAt "
    "channel anonymous confidential region { code name } institution { code name } } } } }"
)
BODY = json.dumps({"query": QUERY}).encode()
TARGET = 0.6
"""The issue's target: the hub serves at least this share of plain strawberry's rate."""


@dataclass(frozen=True, slots=True)
class Plan:
    """How big and how long a run is."""

    name: str
    reports: int
    rounds: int
    seconds: float
    warmup: float
    connections: int


FULL = Plan("full", reports=100_000, rounds=5, seconds=10, warmup=3, connections=16)
QUICK = Plan("quick", reports=20_000, rounds=2, seconds=3, warmup=1, connections=16)

_LABELS = {
    "hub": "hub: `POST /graphql` over PostgreSQL",
    "static": "(a) static Starlette, same bytes",
    "memory": "(b) plain strawberry, from memory",
}


async def prepare_database(server_url: str, count: int) -> tuple[str, float | None]:
    """A migrated database holding ``count`` seeded reports; reused when it already does.

    Returns its URL and the seconds seeding took (None when reused).
    """
    name = f"sp4n_bench_{count}"
    base = server_url.rpartition("/")[0]
    url = f"{base}/{name}"
    for fresh in (False, True):
        admin = await asyncpg.connect(server_url)
        try:
            if fresh:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            exists = await admin.fetchval(
                "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name
            )
            if not exists:
                # An identifier, not a value: it cannot be a parameter; it is built from an int.
                await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        db = Database(url, min_size=1, max_size=1)
        await db.open()
        try:
            await db.migrate()
        finally:
            await db.close()
        conn = await asyncpg.connect(url)
        try:
            have = await seeded_count(conn)
            if have == count:
                say(f"reusing database {name} ({have:,} reports)")
                return url, None
            if have:
                say(f"database {name} holds {have:,} reports, not {count:,}: recreating it")
                continue
            say(f"seeding {count:,} reports into {name}")
            started = time.perf_counter()
            await seed_reports(conn, count, progress=_seed_progress(count))
            elapsed = time.perf_counter() - started
            say(f"seeded {count:,} reports in {elapsed:.1f} s; analysing")
            # Fresh statistics, as a database in steady state would have.
            await conn.execute("ANALYZE")
            return url, elapsed
        finally:
            await conn.close()
    raise RuntimeError(f"could not prepare database {name}")  # pragma: no cover


def _seed_progress(count: int) -> Callable[[int], None]:
    step = max(count // 5, 1)

    def report(done: int) -> None:
        if done % step == 0 or done == count:
            say(f"  seeded {done:,}/{count:,}")

    return report


def _child_env(**extra: str) -> dict[str, str]:
    """The environment of a server: ours, minus any hub settings the caller had set."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SP4N_", "KAFKA_")) and key != "DATABASE_URL"
    }
    env.update(extra)
    return env


def verify(recorded: bytes, answers: dict[str, bytes]) -> dict[str, bool]:
    """Insists every server answers the same JSON; returns which answer the same bytes."""
    expected = json.loads(recorded)
    if "errors" in expected:
        raise RuntimeError(f"the hub answered with errors: {expected['errors']}")
    edges = expected["data"]["reports"]["edges"]
    if len(edges) != 50:
        raise RuntimeError(f"the hub returned {len(edges)} reports, not 50")
    for name, answer in answers.items():
        if json.loads(answer) != expected:
            raise RuntimeError(f"{name} answers different JSON from the hub's")
    return {name: answer == recorded for name, answer in answers.items()}


def measure(plan: Plan, database_url: str) -> tuple[dict[str, Summary], dict[str, bool], str]:
    """Starts the three servers, checks their answers, and loads them in turns."""
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    fixture = WORK_DIR / "reports_page.json"
    hub_env = _child_env(DATABASE_URL=database_url, SP4N_PROFILE="production", SP4N_SYNC="off")
    with ExitStack() as stack:
        hub = stack.enter_context(Server("hub", "bench.apps:hub", hub_env))
        say(f"hub starting on {hub.url}")
        hub.wait_ready(BODY)
        recorded = post(hub.url, BODY)
        fixture.write_bytes(recorded)
        baselines = [
            stack.enter_context(
                Server(name, f"bench.apps:{name}", _child_env(**{FIXTURE_ENV: str(fixture)}))
            )
            for name in ("static", "memory")
        ]
        for server in baselines:
            server.wait_ready(BODY)
        servers = [hub, *baselines]
        same_bytes = verify(recorded, {s.name: post(s.url, BODY) for s in servers})
        say(f"all three answer the same JSON ({len(recorded):,} bytes); same bytes: {same_bytes}")
        wrk = Wrk(BODY, plan.connections)
        for server in servers:
            say(f"warming up {server.name} for {plan.warmup:g} s")
            wrk.run(server.url, plan.warmup)
        rounds: dict[str, list[Round]] = {s.name: [] for s in servers}
        for index in range(plan.rounds):
            # Rotate who goes first, so no server always runs right after another.
            order = servers[index % 3 :] + servers[: index % 3]
            for server in order:
                measured = wrk.run(server.url, plan.seconds)
                rounds[server.name].append(measured)
                say(
                    f"round {index + 1}/{plan.rounds} {server.name:>6}: {measured.rps:8.1f} req/s"
                    f"  p50 {measured.p50_ms:6.2f} ms  p99 {measured.p99_ms:6.2f} ms"
                    + (f"  ERRORS {measured.errors}" if measured.errors else "")
                )
        if json.loads(post(hub.url, BODY)) != json.loads(recorded):
            raise RuntimeError("the hub's answer changed during the run")
        for server in servers:
            if server.tail().strip():
                say(f"{server.name} logged:\n{server.tail(10)}")
        return {name: Summary.of(r) for name, r in rounds.items()}, same_bytes, wrk.version()


def report(
    plan: Plan,
    summaries: dict[str, Summary],
    same_bytes: dict[str, bool],
    facts: dict[str, str],
    seed_seconds: float | None,
) -> str:
    """The RESULTS.md section of this run."""
    hub, static, memory = summaries["hub"], summaries["static"], summaries["memory"]
    vs_static, vs_memory = hub.rps / static.rps, hub.rps / memory.rps
    met = vs_memory >= TARGET
    seeded = (
        f"seeded in this run in {seed_seconds:.1f} s"
        if seed_seconds is not None
        else "reused from an earlier run"
    )
    rows = "\n".join(
        f"| {_LABELS[name]} | {s.rps:,.0f} | {s.rps_low:,.0f}–{s.rps_high:,.0f} | "
        f"{s.p50_ms:.1f} | {s.p99_ms:.1f} | {s.requests:,} | {s.errors} |"
        for name, s in (("hub", hub), ("static", static), ("memory", memory))
    )
    quick = plan.name == "quick"
    caveat = (
        "\n_Quick mode: a smaller data set and short rounds, a smoke test of the benchmark; "
        "quote the full mode._\n"
        if quick
        else ""
    )
    return f"""\
## reports_page, {plan.name} mode
{caveat}
`python -m bench.reports_page{" --quick" if quick else ""}`, {facts["date"]}.

- **Machine**: {facts["nproc"]} CPUs ({facts["cpu"]}), Python {facts["python"]};
  {facts["packages"]}. Load average before the run {facts["load before"]}, after
  {facts["load after"]}: the machine is shared, so other work may have run meanwhile; the
  rotating rounds spread that noise over all three servers.
- **Load generator**: {facts["wrk"]}, 1 thread, {plan.connections} keep-alive connections,
  the query below as one `POST /graphql` JSON body. A {plan.warmup:g} s warm-up per server,
  then {plan.rounds} rounds of {plan.seconds:g} s per server, the order rotating each round.
  Shown: the median over rounds of req/s, p50 and p99, and the range of req/s.
- **Servers**: one uvicorn process each, same options (`{facts["uvicorn options"]}`), on
  127.0.0.1; PostgreSQL, the servers and wrk share the same CPUs.
  - hub: as it ships, `create_app(Settings.from_env(...))`, profile `production`, default
    pool (2–10 connections), `SP4N_SYNC=off` so only the read path runs; an embedded
    PostgreSQL (`durable=False`) holding {plan.reports:,} seeded reports ({seeded}).
  - (a): a Starlette route that reads the body and returns the hub's recorded bytes.
  - (b): strawberry with its defaults (no parser or validation cache; the hub has both),
    a schema of its own with the same fields, sync resolvers over the same 50 reports.
- **Check**: before measuring, all three answered the same JSON (byte-identical to the
  hub's: (a) {same_bytes["static"]}, (b) {same_bytes["memory"]}); after, the hub still did.

```graphql
{QUERY}
```

| server | req/s | req/s range | p50 ms | p99 ms | requests | errors |
|---|---:|---:|---:|---:|---:|---:|
{rows}

Request rates: **hub / (a) = {vs_static:.3f}**, **hub / (b) = {vs_memory:.2f}**.
Target hub ≥ {TARGET} × (b): **{"met" if met else "not met"}**.
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the benchmark; returns the process exit status."""
    parser = argparse.ArgumentParser(prog="python -m bench.reports_page", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="20,000 reports and short rounds (under a minute)"
    )
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.quick:
        say("quick mode: 20,000 reports, 2 rounds of 3 s; numbers are a smoke test only")
    started = time.perf_counter()
    facts = machine_facts()
    facts["load before"] = load_average()
    postgres = EmbeddedPostgres(ROOT / ".sp4n" / "bench-postgres", durable=False)
    say("starting PostgreSQL")
    server_url = postgres.start()
    try:
        database_url, seed_seconds = asyncio.run(prepare_database(server_url, plan.reports))
        summaries, same_bytes, facts["wrk"] = measure(plan, database_url)
    finally:
        say("stopping PostgreSQL")
        postgres.stop()
    facts["load after"] = load_average()
    section = report(plan, summaries, same_bytes, facts, seed_seconds)
    write_section(f"reports_page {plan.name}", section)
    print(section)
    say(f"done in {time.perf_counter() - started:.0f} s; results in bench/RESULTS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
