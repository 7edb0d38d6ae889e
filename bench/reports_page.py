"""A page of reports, four ways, in one run: the hub hot and cold against two bounds.

``python -m bench.reports_page [--quick] [--rate-limit N]`` serves, each in its own
uvicorn process:

* **(a) static**: a Starlette endpoint returning the hub's exact response bytes, the
  ceiling of the HTTP stack;
* **(b) plain strawberry**: a strawberry schema of its own with the same fields,
  resolving the same 50 reports from memory;
* **the hub**, over a PostgreSQL holding the seeded demo data set (100,000 reports;
  20,000 with ``--quick``), loaded two ways: **(c) hot**, the same ``reports(first: 50)``
  every time, and **(d) cold**, every request a different page (its own ``after``
  cursor, shuffled over the whole index), so no two requests are alike.

The hub is configured so that its own rate limit cannot refuse the load, and the run
prints that configuration. wrk's Lua script checks every answer: a non-2xx status, a
GraphQL error or an answer without data in any round (warm-ups included) fails the run,
which then reports what went wrong and prints no figure. Spot checks with httpx before
and after the rounds compare whole answers. The issue's targets: hot at least 0.5 times (a);
cold at least 1.0 times (b).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections.abc import Sequence
from contextlib import ExitStack

import httpx

from bench.apps import FIXTURE_ENV
from bench.harness import (
    ROOT,
    WORK_DIR,
    Server,
    load_average,
    machine_facts,
    post,
    say,
    write_section,
)
from bench.reports_page_db import child_env, cold_cursors, prepare_database
from bench.reports_page_report import (
    CASES,
    Failure,
    HubConfig,
    Outcome,
    Plan,
    failed_section,
    section,
)
from bench.wrk import PLACEHOLDER, Rotation, Round, Summary, Wrk
from hub.settings import Settings
from infra.postgres import EmbeddedPostgres

FIELDS = (
    "id title kind state stateLabel version submittedAt channel anonymous confidential "
    "region { code name } institution { code name }"
)
QUERY = f"{{ reports(first: 50) {{ edges {{ node {{ {FIELDS} }} }} }} }}"
COLD_QUERY = (
    f"query Page($after: String) {{ reports(first: 50, after: $after) "
    f"{{ edges {{ node {{ {FIELDS} }} }} }} }}"
)
BODY = json.dumps({"query": QUERY}).encode()
COLD_TEMPLATE = json.dumps({"query": COLD_QUERY, "variables": {"after": PLACEHOLDER}})

RATE_LIMIT = 1_000_000
"""SP4N_RATE_LIMIT of the hub under test: requests/s per client (burst twice that), far
above anything one uvicorn process can serve, so the limiter never refuses the load."""

FULL = Plan("full", reports=100_000, rounds=5, seconds=10, warmup=3, connections=16)
QUICK = Plan("quick", reports=20_000, rounds=2, seconds=3, warmup=1, connections=16)
SPOT_CHECKS = 20
"""Cold pages fetched with httpx before and after the rounds, each checked whole."""


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


def spot_check(url: str, cursors: Sequence[str], phase: str) -> list[Failure]:
    """Fetches one cold page per cursor; each must be a 200 with 50 reports, no errors,
    and no two pages alike."""
    failures: list[Failure] = []
    firsts: set[str] = set()
    with httpx.Client(timeout=30) as client:
        for cursor in cursors:
            body = COLD_TEMPLATE.replace(PLACEHOLDER, cursor).encode()
            response = client.post(url, content=body, headers={"Content-Type": "application/json"})
            problem = _page_problem(response)
            if problem is None:
                first = response.json()["data"]["reports"]["edges"][0]["node"]["id"]
                problem = (
                    f"two cursors gave the same page (first id {first})"
                    if first in firsts
                    else None
                )
                firsts.add(first)
            if problem is not None:
                sample = f"{response.status_code}\n{response.text[:2000]}"
                failures.append(Failure(phase, "cold", problem, sample))
    return failures


def _page_problem(response: httpx.Response) -> str | None:
    if not 200 <= response.status_code < 300:
        return f"status {response.status_code}"
    try:
        answer = json.loads(response.content)
    except ValueError:
        return "an answer that is not JSON"
    if "errors" in answer:
        codes = sorted({str(e.get("extensions", {}).get("code")) for e in answer["errors"]})
        return f"GraphQL errors {', '.join(codes)}"
    edges = answer.get("data", {}).get("reports", {}).get("edges", [])
    return None if len(edges) == 50 else f"{len(edges)} reports, not 50"


def round_failures(phase: str, case: str, measured: Round) -> list[Failure]:
    if not measured.bad:
        return []
    problem = f"{measured.bad:,} bad of {measured.requests:,} answers: {measured.problems()}"
    return [Failure(phase, case, problem, measured.sample)]


def cache_hits(url: str) -> int:
    """``sp4n_cache_hits_total`` of the hub at ``url`` (0 when it has no cache)."""
    metrics = httpx.get(url.rsplit("/", 1)[0] + "/metrics", timeout=30).text
    for line in metrics.splitlines():
        if line.startswith("sp4n_cache_hits_total "):
            return int(float(line.split()[1]))
    return 0


def measure(
    plan: Plan, database_url: str, cursors: list[str], rate_limit: int
) -> tuple[Outcome, HubConfig]:
    """Starts the servers, checks their answers, and loads the four cases in turns."""
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    fixture = WORK_DIR / "reports_page.json"
    values = WORK_DIR / "reports_page.cursors.txt"
    values.write_text("\n".join(cursors) + "\n")
    hub_env = child_env(
        DATABASE_URL=database_url,
        SP4N_PROFILE="production",
        SP4N_SYNC="off",
        SP4N_RATE_LIMIT=str(rate_limit),
    )
    config = HubConfig.of(Settings.from_env(hub_env), plan, len(cursors))
    say(f"hub under test: {config.line()}")
    with ExitStack() as stack:
        hub = stack.enter_context(Server("hub", "bench.apps:hub", hub_env))
        say(f"hub starting on {hub.url}")
        hub.wait_ready(BODY)
        recorded = post(hub.url, BODY)
        fixture.write_bytes(recorded)
        baselines = {
            name: stack.enter_context(
                Server(name, f"bench.apps:{name}", child_env(**{FIXTURE_ENV: str(fixture)}))
            )
            for name in ("static", "memory")
        }
        for server in baselines.values():
            server.wait_ready(BODY)
        same_bytes = verify(
            recorded, {name: post(s.url, BODY) for name, s in {"hub": hub, **baselines}.items()}
        )
        say(
            f"hub, (a), (b) answer the same JSON ({len(recorded):,} bytes); "
            f"same bytes: {same_bytes}"
        )
        # The spot checks use cursors at both ends of the shuffled list, which the
        # rounds reach last, if ever.
        failures = spot_check(hub.url, cursors[-SPOT_CHECKS:], "before")
        if failures:
            return Outcome(failures=failures, same_bytes=same_bytes), config
        servers = {
            "static": baselines["static"],
            "memory": baselines["memory"],
            "hot": hub,
            "cold": hub,
        }
        wrk = Wrk(plan.connections, WORK_DIR)
        outcome = Outcome(same_bytes=same_bytes, wrk=wrk.version())
        next_cursor = 0

        def run(case: str, seconds: float, phase: str) -> Round:
            nonlocal next_cursor
            body: bytes | Rotation = BODY
            if case == "cold":
                body = Rotation(COLD_TEMPLATE, values, len(cursors), next_cursor)
            hits = cache_hits(hub.url)
            measured = wrk.run(servers[case].url, seconds, body, f"reports_page.{case}")
            if case == "cold":
                # Requests still in flight when wrk stopped took cursors too.
                next_cursor += measured.requests + plan.connections
                # Cold means executed: a page the response cache answered is not.
                served = cache_hits(hub.url) - hits
                if served:
                    problem = f"{served:,} answers came from the response cache"
                    outcome.failures.append(Failure(phase, case, problem, ""))
            elif case == "hot":
                outcome.hot_cache_hits += cache_hits(hub.url) - hits
            outcome.failures.extend(round_failures(phase, case, measured))
            return measured

        for case in CASES:
            say(f"warming up {case} for {plan.warmup:g} s")
            run(case, plan.warmup, "warm-up")
        for index in range(plan.rounds if not outcome.failures else 0):
            # Rotate who goes first, so no case always runs right after another.
            order = CASES[index % 4 :] + CASES[: index % 4]
            for case in order:
                measured = run(case, plan.seconds, f"round {index + 1}")
                outcome.rounds[case].append(measured)
                say(
                    f"round {index + 1}/{plan.rounds} {case:>6}: {measured.rps:8.1f} req/s"
                    f"  p50 {measured.p50_ms:7.2f} ms  p99 {measured.p99_ms:7.2f} ms"
                    + (f"  FAILED: {measured.problems()}" if measured.bad else "")
                )
            if outcome.failures:
                say("a round failed: stopping; no figures will be reported")
                break
        outcome.cursors_used = next_cursor
        if not outcome.failures:
            if json.loads(post(hub.url, BODY)) != json.loads(recorded):
                outcome.failures.append(
                    Failure("after", "hot", "the hub's answer changed during the run", "")
                )
            outcome.failures.extend(spot_check(hub.url, cursors[:SPOT_CHECKS], "after"))
        for server in (hub, *baselines.values()):
            if server.tail().strip():
                say(f"{server.name} logged:\n{server.tail(10)}")
        return outcome, config


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the benchmark; returns the process exit status (1 when a round failed)."""
    parser = argparse.ArgumentParser(prog="python -m bench.reports_page", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="20,000 reports and short rounds (about a minute)"
    )
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=RATE_LIMIT,
        help=f"the hub's SP4N_RATE_LIMIT (default {RATE_LIMIT:,}; the hub ships with 50, "
        "which refuses this load: try it to see the run fail)",
    )
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.quick:
        say("quick mode: 20,000 reports, 2 rounds of 3 s; numbers are a smoke test only")
    started = time.perf_counter()
    facts = machine_facts()
    given = sys.argv[1:] if argv is None else list(argv)
    facts["command"] = " ".join(["python -m bench.reports_page", *given])
    facts["load before"] = load_average()
    postgres = EmbeddedPostgres(ROOT / ".sp4n" / "bench-postgres", durable=False)
    say("starting PostgreSQL")
    server_url = postgres.start()
    try:
        database_url, seed_seconds = asyncio.run(prepare_database(server_url, plan.reports))
        cursors = asyncio.run(cold_cursors(database_url, plan.reports))
        random.Random(11).shuffle(cursors)
        outcome, config = measure(plan, database_url, cursors, args.rate_limit)
    finally:
        say("stopping PostgreSQL")
        postgres.stop()
    facts["load after"] = load_average()
    facts["seeded"] = (
        f"seeded in this run in {seed_seconds:.1f} s"
        if seed_seconds is not None
        else "reused from an earlier run"
    )
    limited = "" if args.rate_limit == RATE_LIMIT else f", SP4N_RATE_LIMIT={args.rate_limit}"
    facts["title"] = f"reports_page, {plan.name} mode{limited}"
    if outcome.failures:
        text = failed_section(plan, outcome, config, facts, QUERY, COLD_QUERY)
    else:
        summaries = {case: Summary.of(rounds) for case, rounds in outcome.rounds.items()}
        text = section(plan, outcome, summaries, config, facts, QUERY, COLD_QUERY)
    # A run with another rate limit (e.g. the shipped one, to see the run fail) gets a
    # section of its own, beside the real figures.
    write_section(f"reports_page {plan.name}{limited}", text)
    print(text)
    verdict = "FAILED" if outcome.failures else "done"
    say(f"{verdict} in {time.perf_counter() - started:.0f} s; results in bench/RESULTS.md")
    return 1 if outcome.failures else 0


if __name__ == "__main__":
    sys.exit(main())
