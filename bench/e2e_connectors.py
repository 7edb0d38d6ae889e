"""The hub end to end through its real connectors into the sandbox node systems.

``python -m bench.e2e_connectors [--quick] [--cap N] [--delay S]`` starts an
embedded PostgreSQL (``durable=False``) and a real Apache Kafka broker
(``bench.stack``), and the sandbox node systems in a child process of their own
(``bench.sandbox_process``), each HTTP node answering every call after ``delay``
seconds (20 ms). It builds the hub as it ships, with connectors on:
``create_app(Settings(sync=KAFKA, connectors=True), node_table=...)`` run through
its lifespan in this process (outbox relay, one sink per node writing back through
the node's connector, pulls, projection, sealer, cache feed), the node table
pointed at the sandbox with every node's concurrency cap set to ``--cap``.

Writes go through ``ReportService.execute`` as ``bench.sync_throughput`` drives
them (its ``Workload``: 16 writers each owning its reports, the mix of
``tests/hub/sync/workload.py``). A change is held when the node's own system has
taken it: the sandbox stamps each write-back it takes (a node system's update
time; a push node's receipt), read back from the child. It measures:

1. **sustained throughput**: ``changes`` as fast as the writers commit them, from
   the first commit until every involved node's system holds every one;
2. **latency at paced rates** (20, then 100 changes/s, open loop): from commit to the last
   involved node's system taking the change;
3. **CPU per change** of the hub process, PostgreSQL, the Kafka JVM and the sandbox
   child over each phase (``bench.harness.CpuMeter``);
4. **a check** over every change of the run, warm-up included: each one held by
   every involved node's system exactly once (the nodes are told to honour no
   event ids or keys, so a write-back sent twice shows twice) and, per report, in
   version order; no dead letters. Anything lost, doubled, out of order or
   dead-lettered makes the run FAILED: its section then gives the counts and no
   figures.

The database nodes (16.12, 16.13) are not served: the sandbox's delay is in its HTTP
handlers, and a node database would share PostgreSQL with the hub under test. Results
go to ``bench/RESULTS.md``; progress to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import dataclasses
import io
import itertools
import logging
import pstats
import sys
import textwrap
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from starlette.applications import Starlette

from bench.harness import CpuMeter, CpuUse, load_average, machine_facts, say, write_section
from bench.sandbox_process import Held, SandboxProcess
from bench.stack import Stack, stack
from bench.sync_throughput import (
    Key,
    Latency,
    Tracker,
    Workload,
    delete_topics,
    kafka_version,
    source_state,
)
from connectors.config import NodeTable
from connectors.sandbox.sandbox import LAYOUT
from hub.app import create_app
from hub.settings import Secret, Settings, SyncMode
from hub.sync.kafka import KafkaBus
from hub.sync.supervisor import SyncSupervisor

TARGET_RATE = 500.0
"""The issue's target: changes per second held by every involved node's system."""
DELAY = 0.02
"""Seconds each sandbox node takes to answer any call."""
CAP = 32
"""Every node's concurrency cap in the hub under test: at 20 ms a call it bounds a
node at 1,600 calls/s; the national node is sent every change, a new report twice."""
POLL_INTERVAL = 3600.0
"""Seconds between pulls: the hub pulls every node once at start (the nodes are empty),
then not again during the run, so only the write-back path is measured."""
STALL = 60.0
"""Seconds without a new write-back held before a phase is given up as stuck."""


@dataclass(frozen=True, slots=True)
class Plan:
    name: str
    warmup: int
    changes: int
    writers: int
    rate: float
    """The issue's paced rate (changes/s)."""
    seconds: float
    light_rate: float
    """A lighter paced rate first, for the latency of a hub that is not behind."""
    light_seconds: float

    @property
    def rates(self) -> tuple[tuple[float, float], ...]:
        return ((self.light_rate, self.light_seconds), (self.rate, self.seconds))


FULL = Plan("full", 500, 8_000, 16, rate=100, seconds=60, light_rate=20, light_seconds=30)
QUICK = Plan("quick", 100, 1_000, 16, rate=100, seconds=10, light_rate=20, light_seconds=5)


class NodeTracker(Tracker):
    """``bench.sync_throughput``'s tracker, knowing only the nodes served and noting each
    commit on the wall clock too (the sandbox child stamps with ``time.time()``)."""

    def __init__(self, served: frozenset[str]) -> None:
        super().__init__()
        self.served = served
        self.wall: dict[Key, float] = {}

    def on_commit(self, key: Key, nodes: frozenset[str], at: float) -> None:
        self.wall[key] = time.time()
        super().on_commit(key, nodes & self.served, at)

    def expected_holds(self) -> int:
        return sum(len(nodes) for nodes in self.expected.values())


@dataclass(frozen=True, slots=True)
class Phase:
    name: str
    keys: tuple[Key, ...]
    cpu: CpuUse
    complete: bool
    """Every change reached the held count before the phase stalled."""
    commits: tuple[float, ...]
    """When each change committed (``time.time()``)."""
    lags: tuple[float, ...] = ()
    """Paced phases: seconds from each change's due time to its commit."""

    @property
    def first_commit(self) -> float:
        return min(self.commits)

    @property
    def last_commit(self) -> float:
        return max(self.commits)


@dataclass
class Check:
    """What the nodes' systems hold, against what they should."""

    changes: int = 0
    expected: int = 0
    held_once: int = 0
    missing: int = 0
    doubled: int = 0
    unexpected: int = 0
    unknown: int = 0
    out_of_order: int = 0
    created_twice: int = 0
    push_repeats: int = 0
    dead_letters: int = 0
    sync_failure: str | None = None
    missing_by_node: Counter[str] = dataclasses.field(default_factory=Counter)
    done: dict[Key, float] = dataclasses.field(default_factory=dict)
    """When the last involved node's system took each fully held change (wall clock)."""

    @property
    def failures(self) -> list[str]:
        found = []
        for count, what in (
            (self.missing, "(change, node) pairs never held by the node"),
            (self.doubled, "write-backs held twice or more (same event at the same node)"),
            (self.unexpected, "write-backs held by a node not involved in the change"),
            (self.unknown, "write-backs whose event the hub's outbox does not have"),
            (self.out_of_order, "(node, report) pairs whose versions arrived out of order"),
            (self.created_twice, "reports created twice at a node"),
            (self.push_repeats, "events a push node received more than once"),
            (self.dead_letters, "events dead-lettered by a sink"),
        ):
            if count:
                found.append(f"{count:,} {what}")
        if self.sync_failure:
            found.append(f"a sync loop died: {self.sync_failure}")
        if self.missing_by_node:
            found.append(
                "missing per node: "
                + ", ".join(f"{n} {c:,}" for n, c in sorted(self.missing_by_node.items()))
            )
        return found


def node_table(sandbox: SandboxProcess, cap: int) -> NodeTable:
    """The sandbox's node table, every node capped at ``cap`` calls at once and pulled
    only at start."""
    table = sandbox.node_table()
    return NodeTable(
        {
            code: dataclasses.replace(
                config,
                poll_interval=POLL_INTERVAL,
                resilience=dataclasses.replace(config.resilience, concurrency=cap),
            )
            for code, config in table.nodes.items()
        }
    )


async def wait_held(sandbox: SandboxProcess, tracker: NodeTracker, what: str) -> bool:
    """Waits until the nodes' systems hold as many write-backs as the committed changes
    need; False when none arrives for ``STALL`` seconds first."""
    wanted = tracker.expected_holds()
    last, progress_at, said = -1, time.monotonic(), time.monotonic()
    while True:
        count = await asyncio.to_thread(sandbox.held_count)
        if count >= wanted:
            return True
        now = time.monotonic()
        if count != last:
            last, progress_at = count, now
        elif now - progress_at > STALL:
            say(f"  {what}: stalled at {count:,} of {wanted:,} write-backs held")
            return False
        if now - said >= 2:
            said = now
            say(f"  {what}: {count:,} of {wanted:,} write-backs held")
        await asyncio.sleep(0.1)


async def event_versions(url: str) -> dict[str, Key]:
    """Each event of the hub's outbox: its report and the version it made."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT event_id, report_id, version FROM outbox")
    finally:
        await conn.close()
    return {str(r["event_id"]): (str(r["report_id"]), int(r["version"])) for r in rows}


def check(
    tracker: NodeTracker,
    held: list[Held],
    calls: dict[str, int],
    created_twice: dict[str, int],
    events: dict[str, Key],
    push_nodes: Iterable[str],
) -> Check:
    """Every committed change held once by each node it involves, in version order."""
    result = Check(changes=len(tracker.expected), expected=tracker.expected_holds())
    at: dict[tuple[Key, str], list[float]] = defaultdict(list)
    order: dict[tuple[str, str], list[int]] = defaultdict(list)
    for h in held:  # in each report's order of arrival at the node
        key = events.get(h.event_id)
        if key is None:
            result.unknown += 1
            continue
        at[(key, h.node)].append(h.at)
        order[(h.node, key[0])].append(key[1])
    for (key, node), times in at.items():
        if node not in tracker.expected.get(key, frozenset()):
            result.unexpected += len(times)
        elif len(times) > 1:
            result.doubled += len(times) - 1
    for versions in order.values():
        if any(b <= a for a, b in itertools.pairwise(versions)):
            result.out_of_order += 1
    for key, nodes in tracker.expected.items():
        last = 0.0
        for node in nodes:
            times = at.get((key, node), [])
            if not times:
                result.missing += 1
                result.missing_by_node[node] += 1
                last = -1.0
            elif last >= 0:
                last = max(last, min(times))
        if last > 0:
            result.done[key] = last
    result.held_once = sum(
        1 for (key, node), t in at.items() if len(t) == 1 and node in tracker.expected.get(key, ())
    )
    result.created_twice = sum(created_twice.values())
    for node in push_nodes:
        received = sum(1 for h in held if h.node == node)
        result.push_repeats += max(calls.get(node, 0) - received, 0)
    return result


@dataclass(frozen=True, slots=True)
class Measured:
    sustained: Phase
    paced: tuple[Phase, ...]
    """The lighter rate, then the issue's."""
    check: Check
    config: list[str]
    per_node: list[tuple[str, str, int, int]]
    """Node, kind, write-backs held, calls received."""
    sink_stats: dict[str, int]
    postgres_version: str
    fetch_wait_ms: int


def hub_config(app: Starlette, settings: Settings) -> list[str]:
    """What the hub under test runs with, read back from the built app."""
    sync: SyncSupervisor = app.state.sync
    bus = sync.bus
    assert isinstance(bus, KafkaBus)
    configs = [c.config for c in app.state.federation]
    caps = sorted({c.resilience.concurrency for c in configs})
    workers = list(sync.workers.values())
    kinds = Counter(c.kind for c in configs)
    policy = configs[0].resilience
    sink_db = sync.sink_db
    return [
        f"{len(configs)} nodes served through their connectors "
        f"({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))}); node table: the "
        f"packaged `connectors/nodes.toml` pointed at the sandbox, every node's "
        f"`resilience.concurrency` set to {', '.join(map(str, caps))} (shipped: 8), "
        f"`poll_interval_seconds` {POLL_INTERVAL:,.0f} (pulled once at start, not during "
        f"the run); per call timeout {policy.timeout:g} s, {policy.attempts} attempts, "
        f"circuit opening after {policy.failure_threshold} faults (as shipped)",
        f"one sink per node: its own consumer group, lanes of up to "
        f"{', '.join(sorted({str(w.concurrency) for w in workers}))} reports at once "
        f"(the node's cap), batches of up to {workers[0].batch_size} events, "
        f"one attempt per event by the sink (the connector retries), fetches "
        f"held until {bus.fetch.min_bytes:,} B or {bus.fetch.max_wait_ms} ms; the sinks' "
        f"pool {sink_db.min_size}–{sink_db.max_size} connections",
        f"Kafka: {settings.kafka_partitions} partitions, one broker; hub pool "
        f"{settings.pool_min_size}–{settings.pool_max_size} connections; response cache "
        f"{settings.cache_mb} MiB (its change feed reads every event); profile "
        f"{settings.profile.value}",
    ]


async def measure(
    plan: Plan, where: Stack, sandbox: SandboxProcess, cap: int, pool: int, profile: Path | None
) -> Measured:
    served = frozenset(sandbox.nodes)
    table = node_table(sandbox, cap)
    prefix = f"e2e{uuid.uuid4().hex[:8]}."
    settings = Settings(
        database_url=Secret(where.database_url),
        sync=SyncMode.KAFKA,
        kafka_bootstrap_servers=where.bootstrap,
        kafka_topic_prefix=prefix,
        pool_max_size=pool,
        connectors=True,
    )
    app = create_app(settings, env=sandbox.env, node_table=table)
    config = hub_config(app, settings)
    meter = CpuMeter(where.postmaster, where.broker, sandbox.cpu_seconds)
    tracker = NodeTracker(served)
    say(f"hub starting: {len(table)} nodes, cap {cap}, topics {prefix}*")
    async with app.router.lifespan_context(app):
        sync: SyncSupervisor = app.state.sync
        work = Workload(app.state.service, tracker)

        def alive() -> None:
            if sync.failure is not None:
                raise RuntimeError(f"a sync loop died: {sync.failure}")

        say(f"warm-up: {plan.warmup:,} changes")
        await work.burst(plan.warmup, plan.writers, seed=1)
        if not await wait_held(sandbox, tracker, "warm-up"):
            say("warm-up did not complete; measuring anyway, the check will tell")
        alive()

        say(f"sustained: {plan.changes:,} changes from {plan.writers} writers")
        base = len(tracker.expected)
        profiler = cProfile.Profile() if profile is not None else None
        before = meter.snapshot()
        if profiler is not None:
            profiler.enable()
        await work.burst(plan.changes, plan.writers, seed=2)
        complete = await wait_held(sandbox, tracker, "sustained")
        if profiler is not None:
            profiler.disable()
        cpu = meter.since(before)
        if profiler is not None and profile is not None:
            dump(profiler, profile)
        keys = tuple(list(tracker.expected)[base:])
        sustained = Phase("sustained", keys, cpu, complete, tuple(tracker.wall[k] for k in keys))
        alive()

        paced: list[Phase] = []
        for seed, (rate, seconds) in enumerate(plan.rates, start=3):
            say(f"paced: {rate:g} changes/s for {seconds:g} s (open loop)")
            before = meter.snapshot()
            due_of = await work.paced(rate, seconds, seed=seed)
            complete = await wait_held(sandbox, tracker, f"{rate:g}/s")
            cpu = meter.since(before)
            keys = tuple(k for k, _ in due_of)
            paced.append(
                Phase(
                    f"{rate:g}/s", keys, cpu, complete, tuple(tracker.wall[k] for k in keys),
                    tuple(tracker.committed[k] - due for k, due in due_of),
                )
            )  # fmt: skip
            alive()
        failure = sync.failure
        sink_stats: Counter[str] = Counter()
        for worker in sync.workers.values():
            for name in ("applied", "stale", "duplicates", "dead_lettered", "in_doubt", "held"):
                sink_stats[name] += getattr(worker.stats, name)
    say("reading back what the nodes' systems hold")
    held, calls, doubled = await asyncio.to_thread(sandbox.held)
    events = await event_versions(where.database_url)
    push_nodes = [n for n in served if LAYOUT[n] == "push"]
    result = check(tracker, held, calls, doubled, events, push_nodes)
    result.dead_letters = sink_stats["dead_lettered"]
    result.sync_failure = str(failure) if failure is not None else None
    writes = Counter(h.node for h in held)
    per_node = [(n, LAYOUT[n], writes[n], calls.get(n, 0)) for n in sorted(served)]
    conn = await asyncpg.connect(where.database_url)
    try:
        version = str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()
    await delete_topics(where.bootstrap, prefix)
    bus = app.state.sync.bus
    assert isinstance(bus, KafkaBus)
    return Measured(
        sustained, tuple(paced), result, config, per_node, dict(sink_stats), version,
        bus.fetch.max_wait_ms,
    )  # fmt: skip


# -- the section -------------------------------------------------------------------


def failed(m: Measured) -> list[str]:
    """What went wrong in the run; empty: every change held once, in order, everywhere."""
    failures = m.check.failures
    incomplete = [p.name for p in (m.sustained, *m.paced) if not p.complete]
    if incomplete and not failures:
        failures.append(f"phase(s) {', '.join(incomplete)} stalled before every change was held")
    return failures


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f}"


def _cpu_rows(m: Measured) -> list[str]:
    lines = [
        "| phase | changes | cores: hub process | PostgreSQL | Kafka | sandbox | anything else "
        "| CPU ms per change: hub process | PostgreSQL | Kafka | sandbox |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for phase in (m.sustained, *m.paced):
        c, n = phase.cpu, len(phase.keys)
        hub, pg, kafka = c.per_item(n)
        box = c.sandbox_per_item(n)
        lines.append(
            f"| {phase.name} | {n:,} | {c.hub:.2f} | {c.postgres:.2f} | "
            f"{c.kafka:.2f} | {c.sandbox:.2f} | {c.other:.2f} | {hub:.2f} | {pg:.2f} "
            f"| {kafka:.2f} | {box:.2f} |"
        )
    return lines


def _latency_rows(phase: Phase, done: dict[Key, float]) -> list[str]:
    seconds = [done[k] - at for k, at in zip(phase.keys, phase.commits, strict=True)]
    latency = Latency.of(seconds)
    # From the due time: the commit's lag (monotonic clock) plus commit to held (wall).
    from_due = Latency.of([lag + t for lag, t in zip(phase.lags, seconds, strict=True)])
    commit_lag = Latency.of(list(phase.lags))
    span = max(phase.last_commit - phase.first_commit, 1e-9)
    at = f"at {phase.name}:"
    return [
        f"| {at} p50 latency, commit to the last node's system (ms) | {_ms(latency.p50)} |",
        f"| {at} p99 latency (ms) | {_ms(latency.p99)} |",
        f"| {at} max latency (ms) | {_ms(latency.max)} |",
        f"| {at} p50 / p99 from the due time (ms) | {_ms(from_due.p50)} / {_ms(from_due.p99)} |",
        f"| {at} commit p50 / p99 from the due time (ms) | "
        f"{_ms(commit_lag.p50)} / {_ms(commit_lag.p99)} |",
        f"| {at} changes committed per s | {len(phase.keys) / span:,.0f} |",
    ]


def _node_rows(m: Measured) -> list[str]:
    lines = ["| node | kind | write-backs held | calls received |", "|---|---|---:|---:|"]
    lines += [f"| {n} | {k} | {w:,} | {c:,} |" for n, k, w, c in m.per_node]
    return lines


def report(plan: Plan, m: Measured, facts: dict[str, str], cap: int, delay: float) -> str:
    quick = plan.name == "quick"
    command = f"python -m bench.e2e_connectors{' --quick' if quick else ''}"
    if cap != CAP:
        command += f" --cap {cap}"
    if delay != DELAY:
        command += f" --delay {delay:g}"
    caveat = (
        "\n_Quick mode: short phases, a smoke test of the benchmark; quote the full mode._\n"
        if quick
        else ""
    )
    c = m.check
    failures = failed(m)
    title = f"## e2e_connectors, {plan.name} mode{': FAILED' if failures else ''}"
    config = "\n".join(
        textwrap.fill(line, width=92, initial_indent="  - ", subsequent_indent="    ")
        for line in m.config
    )
    head = f"""\
{title}
{caveat}
`{command}`, {facts["date"]}, hub code at {facts["source"]}.

- **Machine**: {facts["nproc"]} CPUs ({facts["cpu"]}), Python {facts["python"]};
  {facts["packages"]}; PostgreSQL {m.postgres_version} (embedded, `durable=False`),
  Apache Kafka {facts["kafka"]} (one KRaft node). Load average before the run
  {facts["load before"]}, after {facts["load after"]}: the machine is shared (another
  engineer's test suites), so "anything else" below is CPU other work took from the run.
- **Hub under test**: `create_app(Settings(sync=SyncMode.KAFKA, connectors=True, ...),
  node_table=...)` run through its lifespan in this process, as it ships but for the node
  table:
{config}
- **Nodes**: the sandbox node systems (`connectors/sandbox`) served from a child process
  (`bench/sandbox_process.py`: its own process and event loop, on the same cores), every
  call to every node answered after an added {delay * 1000:g} ms (`Sandbox(delay=...)`);
  the nodes start empty and honour no event ids or idempotency keys (`honour_keys` off),
  so a write-back sent twice shows twice. The two database nodes (16.12, 16.13) are not
  served: the delay is in the sandbox's HTTP handlers, and their databases would share
  PostgreSQL with the hub. The push nodes' receiver drops a repeated event id itself; a
  repeat shows as a call without a receipt.
- **Workload**: `bench.sync_throughput.Workload` (its writers and mix, imported): changes
  through `ReportService.execute`, {plan.writers} writers each owning its reports; a change
  involves its origin, region, every institution's node it was ever at and the national
  node (`lapor`), those served. {plan.warmup:,} changes of warm-up, then **sustained**:
  {plan.changes:,} as fast as the writers commit; from the first commit until every
  involved node's system held every one of them. **Paced**, open loop (each change starts
  at its due time): {plan.light_rate:g}/s for {plan.light_seconds:g} s, then the issue's
  {plan.rate:g}/s for {plan.seconds:g} s, each after the last drained; latency from the
  commit (`execute` returned) to the last involved node's system taking the change (its
  update time in the sandbox, `time.time()` in both processes).
- **Check**, over all {c.changes:,} changes of the run: {c.expected:,} (change, node) pairs
  expected, {c.held_once:,} held exactly once; lost {c.missing:,}, held twice
  {c.doubled:,}, at a node not involved {c.unexpected:,}, unknown events {c.unknown:,},
  (node, report) pairs out of version order {c.out_of_order:,}, reports created twice at
  a node {c.created_twice:,}, push repeats {c.push_repeats:,}, dead letters
  {c.dead_letters:,}. The sinks counted: {", ".join(f"{k} {v:,}" for k, v in m.sink_stats.items())}.
"""
    if failures:
        return (
            head
            + "\n**This run failed; it reports no figures and no target as met or missed.**\n\n"
            + "\n".join(f"- {f}" for f in failures)
            + "\n\n"
            + "\n".join(_node_rows(m))
            + "\n"
        )
    s = m.sustained
    end = max(c.done[k] for k in s.keys)
    rate = len(s.keys) / (end - s.first_commit)
    committed = len(s.keys) / max(s.last_commit - s.first_commit, 1e-9)
    ok = rate >= TARGET_RATE
    lapor = next((w, calls) for n, _, w, calls in m.per_node if n == "lapor")
    table = [
        "| measure | value |",
        "|---|---:|",
        "| sustained: changes held everywhere per s (first commit to last held) | "
        f"**{rate:,.0f}** |",
        f"| sustained: changes committed per s (first to last commit) | {committed:,.0f} |",
        f"| sustained: seconds from the last commit to the last held | "
        f"{end - s.last_commit:,.1f} |",
    ]
    for phase in m.paced:
        table += _latency_rows(phase, c.done)
    bound = cap / delay
    per_change = lapor[1] / c.changes if c.changes else 0.0
    busy = s.cpu.hub + s.cpu.postgres + s.cpu.kafka + s.cpu.sandbox
    sentences = [
        f"Reading: the national node (`lapor`) is sent every change: {lapor[1]:,} calls for "
        f"{c.changes:,} changes ({per_change:.2f} a change: a report new to the node is "
        f"created, then written), so at a cap of {cap} and {delay * 1000:g} ms a call it "
        f"bounds the run at about {bound / max(per_change, 1e-9):,.0f} changes/s"
        + (
            "; the caps are not what limited this run."
            if rate < 0.8 * bound / max(per_change, 1e-9)
            else ", close to what this run reached."
        ),
        f"The sustained phase committed {committed:,.0f} changes/s and the nodes' systems "
        f"held them at {rate:,.0f}/s, "
        + (
            "keeping up with the writes."
            if rate >= 0.9 * committed
            else f"falling behind the writes: the last was held {end - s.last_commit:,.1f} s "
            "after the last commit."
        ),
        f"The run's own processes kept {busy:.2f} of the {facts['nproc']} cores busy in it "
        f"(this process {s.cpu.hub:.2f}), other work {s.cpu.other:.2f}: "
        + (
            "the machine was saturated, so the figure is a CPU bound of this shared machine, "
            "not of the nodes' 20 ms."
            if busy + s.cpu.other > 0.85 * int(facts["nproc"])
            else "the machine had CPU to spare."
        ),
        (
            f"{plan.rate:g}/s is above the {rate:,.0f}/s this run sustained, so its latency "
            "is mostly queueing behind the backlog it builds."
            if rate < plan.rate
            else f"At {plan.rate:g}/s the latency includes the sinks' fetch wait (up to "
            f"{m.fetch_wait_ms} ms for a fetch to fill) and at least one "
            f"{delay * 1000:g} ms call per node, two for a report new to it."
        ),
    ]
    reading = textwrap.fill(" ".join(sentences), width=92)
    return (
        head
        + "\n"
        + "\n".join(table)
        + "\n\nCPU over each phase: cores kept busy on average (1.0 = one of the "
        + f'{facts["nproc"]}), and CPU ms per change;\n"hub process" is this Python process '
        + "(the writers and the hub, connectors included).\n\n"
        + "\n".join(_cpu_rows(m))
        + "\n\nWhat each node's system took over the whole run (warm-up included) and the\n"
        + "calls it answered (creations, writes; each after the delay):\n\n"
        + "\n".join(_node_rows(m))
        + f"\n\nTarget ≥ {TARGET_RATE:,.0f} changes/s sustained, end to end through the "
        + f"connectors: **{'met' if ok else 'missed'}** ({rate:,.0f}).\n\n"
        + reading
        + "\n"
    )


def dump(profiler: cProfile.Profile, path: Path) -> None:
    """The hub process's profile of the sustained phase, to ``path`` and (the top) stderr."""
    path.parent.mkdir(parents=True, exist_ok=True)
    profiler.dump_stats(path)
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(30)
    say(f"profile in {path}; by own time:\n{text.getvalue()}")


async def run(plan: Plan, cap: int, delay: float, pool: int, profile: Path | None) -> Measured:
    async with stack("e2e-connectors") as where:
        say(f"starting the sandbox nodes in a child process ({delay * 1000:g} ms a call)")
        sandbox = SandboxProcess(reports_per_node=0, delay=delay, honour_keys=False)
        await asyncio.to_thread(sandbox.start)
        try:
            return await measure(plan, where, sandbox, cap, pool, profile)
        finally:
            await asyncio.to_thread(sandbox.stop)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the benchmark; returns the process exit status (1: the check failed)."""
    parser = argparse.ArgumentParser(prog="python -m bench.e2e_connectors", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short phases: a smoke test")
    parser.add_argument("--cap", type=int, default=CAP, help="every node's concurrency cap")
    parser.add_argument("--delay", type=float, default=DELAY, help="seconds per node call")
    parser.add_argument(
        "--pool", type=int, default=Settings.pool_max_size, help="the hub's pool_max_size"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="FILE",
        help="cProfile this process in the sustained phase into FILE (slows it: with "
        "--no-write, to see where the CPU goes, not for the figures)",
    )
    parser.add_argument("--no-write", action="store_true", help="do not touch bench/RESULTS.md")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # aiokafka logs ERROR for the expected: a fresh broker's coordinator still loading.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    started = time.perf_counter()
    facts = machine_facts(("asyncpg", "aiokafka", "aiohttp", "uvicorn"))
    facts["source"] = source_state()
    facts["load before"] = load_average()
    measured = asyncio.run(run(plan, args.cap, args.delay, args.pool, args.profile))
    # After the run: a fresh checkout fetches the broker's jars when it first starts one.
    facts["kafka"] = kafka_version()
    facts["load after"] = load_average()
    section = report(plan, measured, facts, args.cap, args.delay)
    if not args.no_write:
        write_section(f"e2e_connectors {plan.name}", section)
    print(section)
    say(f"done in {time.perf_counter() - started:.0f} s")
    return 1 if failed(measured) else 0


if __name__ == "__main__":
    sys.exit(main())
