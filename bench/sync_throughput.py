"""The sync path end to end on a real Kafka broker, beside raw aiokafka in the same run.

``python -m bench.sync_throughput [--quick] [--profile DIR]`` starts an embedded
PostgreSQL (``durable=False``) and a real Apache Kafka broker, creates a fresh
database, and builds the hub as it ships: ``create_app(Settings(sync=KAFKA))``
with 19 node sinks (``RecordingSink``, the tests' double, passed in), run through
the app's lifespan in this process. It then measures:

1. **sustained throughput**: ``changes`` valid changes over all 19 nodes, as
   fast as concurrent writers (each owning its reports) can commit them; the
   clock runs from the start of the writers until every involved node's sink
   has applied every change. The write path's commit rate and the relay's
   publish rate are shown beside it, so the reader sees which stage limits;
2. **propagation latency** at fixed rates, open loop (a change starts at its
   due time whatever the earlier ones are doing): a light rate first, then
   the issue's 500/s; from the moment ``ReportService.execute`` returned
   (committed) to the moment the last involved sink applied it;
3. **the write path alone**: the same number of changes with ``sync=off``,
   which stay in the outbox;
4. **the sync path alone**: a second hub on the same topics and groups starts
   with that backlog; from its first apply to the last change applied
   everywhere (no group join, no write path in the figure);
5. **raw aiokafka**: the same number of messages, the hub's own encoded
   events (read back from its outbox), through an idempotent ``acks=all``
   producer to 19 consumer groups in this process (poll, then commit, as the
   sinks do), for throughput and for latency at the same fixed rates.

An apply is timed at the sink: each sink's ``received`` list is swapped for
one that stamps ``time.monotonic()`` on every append, which RecordingSink.apply
does, so nothing of the hub's code is changed or bypassed. Which nodes a change
involves is worked out independently of the hub's routing (origin, region,
every institution the report was ever addressed to, and the national node),
and the run fails if any node misses a change, gets one it is not involved in,
or applies one twice. Each phase also records the CPU time of this process,
PostgreSQL and the Kafka JVM, since the machine is shared. Results go to
``bench/RESULTS.md``; progress to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import logging
import pstats
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from starlette.applications import Starlette

from bench.harness import (
    ROOT,
    CpuMeter,
    CpuUse,
    load_average,
    machine_facts,
    say,
    write_section,
)
from hub.app import create_app
from hub.domain.commands import Actor, Submit
from hub.domain.service import ReportService
from hub.settings import Secret, Settings, SyncMode
from hub.store.rows import ReportRow
from hub.sync.kafka import FETCH, Fetch, KafkaBus
from hub.sync.relay import stored_envelope
from hub.sync.supervisor import SyncSupervisor
from infra.kafka import KafkaBroker
from infra.kafka.paths import default_lib_dir
from infra.postgres import EmbeddedPostgres
from schema.envelope import Envelope
from schema.events import ReportEvent
from schema.institutions import INSTITUTIONS
from schema.nodes import NATIONAL_NODE, NODES
from schema.regions import REGIONS
from schema.report import ActorRole, Channel, ComplaintSubKind, ReportKind
from tests.doubles import RecordingSink
from tests.doubles import recording_sinks as recording_sinks_for_nodes
from tests.hub.sync.workload import has_moves, next_command

TARGET_RATE = 2_000.0
"""The issue's target: sustained changes per second, end to end."""
TARGET_P99 = 1.0
"""The issue's target: p99 propagation latency in seconds at ``Plan.rate``."""
DATABASE = "sp4n_sync_bench"
POSTGRES_DIR = ROOT / ".sp4n" / "bench-sync-postgres"
KAFKA_DIR = ROOT / ".sp4n" / "bench-kafka"

NODE_CODES = frozenset(n.code for n in NODES)
NODE_OF_INSTITUTION = {i.code: i.node_code for i in INSTITUTIONS}
REGION_CODES = [r.code for r in REGIONS]
GROUPS = len(NODES)


@dataclass(frozen=True, slots=True)
class Plan:
    """How big and how long a run is."""

    name: str
    changes: int
    """Changes in the sustained phase (and messages in raw Kafka's)."""
    writers: int
    rate: float
    """Changes per second of the fixed-rate phase (the issue's 500/s)."""
    seconds: float
    """Length of the fixed-rate phase."""
    light_rate: float
    """A rate well within what the write path sustains, for latency without overload."""
    light_seconds: float
    warmup: int
    """Changes before anything is measured: group joins, statement caches."""

    @property
    def paced(self) -> int:
        return round(self.rate * self.seconds)

    @property
    def light(self) -> int:
        return round(self.light_rate * self.light_seconds)


FULL = Plan(
    "full",
    changes=20_000,
    writers=16,
    rate=500,
    seconds=20,
    light_rate=50,
    light_seconds=20,
    warmup=1_000,
)
QUICK = Plan(
    "quick",
    changes=600,
    writers=16,
    rate=500,
    seconds=1,
    light_rate=50,
    light_seconds=3,
    warmup=150,
)


# -- timing what each node applied ---------------------------------------------------

Key = tuple[str, int]
"""A change: report id and the version it produced."""


class Tracker:
    """When each change committed, which nodes must apply it, and when they did."""

    def __init__(self) -> None:
        self.expected: dict[Key, frozenset[str]] = {}
        self.committed: dict[Key, float] = {}
        self.applied: dict[Key, dict[str, float]] = {}
        self.done: dict[Key, float] = {}
        """When the last involved node applied the change."""
        self.applies = 0

    def on_apply(self, node: str, key: Key, at: float) -> None:
        self.applies += 1
        nodes = self.applied.setdefault(key, {})
        nodes[node] = at
        expected = self.expected.get(key)
        if expected is not None and key not in self.done and expected <= nodes.keys():
            self.done[key] = at

    def on_commit(self, key: Key, nodes: frozenset[str], at: float) -> None:
        # The relay may publish and the sinks apply before the writer resumes.
        self.expected[key] = nodes
        self.committed[key] = at
        applied = self.applied.get(key)
        if applied is not None and nodes <= applied.keys():
            self.done[key] = max(applied[n] for n in nodes)

    @property
    def pending(self) -> int:
        return len(self.expected) - len(self.done)

    async def drained(self, within: float, what: str) -> None:
        """Waits until every committed change reached every involved node."""
        deadline = time.monotonic() + within
        while self.pending:
            if time.monotonic() > deadline:
                missing: dict[str, int] = {}
                for key, nodes in self.expected.items():
                    if key not in self.done:
                        for node in nodes - self.applied.get(key, {}).keys():
                            missing[node] = missing.get(node, 0) + 1
                raise RuntimeError(
                    f"{what}: {self.pending:,} changes not applied everywhere after "
                    f"{within:.0f} s; missing per node: {missing}"
                )
            await asyncio.sleep(0.01)


class TimedReceived(list[ReportEvent]):
    """A RecordingSink's ``received`` list that stamps every apply for the tracker."""

    __slots__ = ("_node", "_tracker")

    def __init__(self, node: str, tracker: Tracker) -> None:
        super().__init__()
        self._node = node
        self._tracker = tracker

    def append(self, event: ReportEvent, /) -> None:
        super().append(event)
        self._tracker.on_apply(self._node, (event.report_id, event.version), time.monotonic())


def recording_sinks(sync: SyncSupervisor) -> dict[str, RecordingSink]:
    found = {}
    for node, worker in sync.workers.items():
        if not isinstance(worker.sink, RecordingSink):
            raise RuntimeError(f"node {node}'s sink is a {type(worker.sink).__name__}")
        found[node] = worker.sink
    return found


def verify(sinks: dict[str, RecordingSink], tracker: Tracker, latest: dict[str, Owned]) -> None:
    """Every node holds exactly the latest version of its reports, each applied once."""
    for key, nodes in tracker.applied.items():
        extra = nodes.keys() - tracker.expected.get(key, frozenset())
        if extra:
            raise RuntimeError(f"{sorted(extra)} applied {key}, a change they are not involved in")
    for node, sink in sinks.items():
        twice = sink.applied_twice()
        if twice:
            raise RuntimeError(f"node {node} applied {len(twice)} events twice")
        want = {rid: o.row.version for rid, o in latest.items() if node in o.nodes}
        if sink.latest() != want:
            raise RuntimeError(f"node {node} does not hold the latest version of its reports")


# -- the workload ------------------------------------------------------------------


@dataclass(slots=True)
class Owned:
    """A report one writer owns, and every node it has involved so far."""

    row: ReportRow
    nodes: frozenset[str]

    @property
    def finished(self) -> bool:
        """No move is left to it (``tests/hub/sync/workload.py`` asks the core)."""
        return not has_moves(self.row)


def involved(row: ReportRow, before: frozenset[str]) -> frozenset[str]:
    """Origin, region, national node and every institution the report was ever at."""
    nodes = {NATIONAL_NODE, row.origin_node, row.region_code}
    nodes.add(NODE_OF_INSTITUTION[row.institution_code])
    return frozenset(nodes & NODE_CODES) | before


def actor_of(node: str) -> Actor:
    role = ActorRole.NATIONAL_ADMIN if node == NATIONAL_NODE else ActorRole.INSTITUTION_ADMIN
    return Actor(node, role)


@dataclass(slots=True)
class Workload:
    """Runs changes through the write path and tells the tracker about each commit."""

    service: ReportService
    tracker: Tracker
    latest: dict[str, Owned] = field(default_factory=dict)
    committed: int = 0

    async def change(self, rng: random.Random, owned: Owned | None) -> Owned:
        """Submits a new report (``owned`` None) or moves ``owned`` one step on.

        A new report comes from a random node; a move is made by the admin of a random
        node the report already concerns (as a node's own client would), so the hub's
        per-node authorisation runs as it would in production.
        """
        if owned is None:
            node = rng.choice(NODES)
            complaint = rng.random() < 0.6
            row = await self.service.execute(
                Submit(
                    kind=ReportKind.COMPLAINT if complaint else ReportKind.ASPIRATION,
                    complaint_sub_kind=ComplaintSubKind.SUPERVISORY if complaint else None,
                    title="Laporan beban sinkronisasi",
                    content="Isi.",
                    region_code=node.region_code or rng.choice(REGION_CODES),
                    topic_id=301,
                    channel=Channel.WEB,
                ),
                actor_of(node.code),
            )
            before: frozenset[str] = frozenset()
        else:
            command = next_command(rng, owned.row)
            if command is None:
                raise ValueError("a finished report has no next move")
            # The national node hears of every report but acts only on its own.
            acting = owned.nodes - {NATIONAL_NODE} | {owned.row.origin_node}
            actor = actor_of(rng.choice(sorted(acting)))
            row = await self.service.execute(command, actor, expected_version=owned.row.version)
            before = owned.nodes
        at = time.monotonic()
        updated = Owned(row, involved(row, before))
        self.tracker.on_commit((str(row.id), row.version), updated.nodes, at)
        self.latest[str(row.id)] = updated
        self.committed += 1
        return updated

    async def burst(self, count: int, writers: int, seed: int) -> None:
        """``count`` changes as fast as ``writers`` concurrent writers commit them."""
        issued = 0

        async def writer(index: int) -> None:
            nonlocal issued
            rng = random.Random(seed * 1000 + index)
            live: list[Owned] = []
            while issued < count:
                issued += 1
                if not live or rng.random() < 0.2:
                    live.append(await self.change(rng, None))
                    continue
                at = rng.randrange(len(live))
                moved = await self.change(rng, live[at])
                if moved.finished:
                    live[at] = live[-1]
                    live.pop()
                else:
                    live[at] = moved

        await asyncio.gather(*(writer(i) for i in range(writers)))

    async def paced(self, rate: float, seconds: float, seed: int) -> list[tuple[Key, float]]:
        """Open loop: change ``i`` starts at ``start + i / rate``, whatever the others do.

        Returns each change with its due time.
        """
        rng = random.Random(seed)
        idle: list[Owned] = []
        due_of: list[tuple[Key, float]] = []
        tasks: list[asyncio.Task[None]] = []

        async def one(owned: Owned | None, due: float) -> None:
            moved = await self.change(random.Random(rng.random()), owned)
            due_of.append(((str(moved.row.id), moved.row.version), due))
            if not moved.finished:
                idle.append(moved)

        start = time.monotonic() + 0.01
        for i in range(round(rate * seconds)):
            due = start + i / rate
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            owned = None
            if idle and rng.random() >= 0.2:
                at = rng.randrange(len(idle))
                owned = idle[at]
                idle[at] = idle[-1]
                idle.pop()
            tasks.append(asyncio.create_task(one(owned, due)))
        await asyncio.gather(*tasks)
        return due_of


# -- results -----------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass(frozen=True, slots=True)
class Latency:
    count: int
    p50: float
    p99: float
    max: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Latency:
        return cls(len(seconds), percentile(seconds, 50), percentile(seconds, 99), max(seconds))

    def text(self) -> str:
        return f"p50 {_ms(self.p50)} ms, p99 {_ms(self.p99)} ms, max {_ms(self.max)} ms"


@dataclass(frozen=True, slots=True)
class Throughput:
    """One burst: ``count`` items from ``start``; when they were handed over and delivered."""

    count: int
    handed_over: float
    """Seconds until the last was committed (hub) or acknowledged by the broker (raw)."""
    relayed: float | None
    """Seconds until the relay had published the last (hub only)."""
    delivered: float
    """Seconds until the last reached every node involved (every group, raw)."""
    cpu: CpuUse

    @property
    def rate(self) -> float:
        return self.count / self.delivered


@dataclass(frozen=True, slots=True)
class Paced:
    count: int
    sent_over: float
    """Seconds from the first due time to the last change handed over."""
    latency: Latency
    """From commit (raw: from send) to the last node's apply (raw: last group's receipt)."""
    from_due: Latency
    """From the scheduled time, so a write path that lags shows too."""
    write: Latency | None
    """How long ``execute`` took (hub only)."""
    cpu: CpuUse


@dataclass(frozen=True, slots=True)
class Drain:
    """The sync path alone, working off a backlog."""

    count: int
    seconds: float
    """From the first apply to the last change applied everywhere."""
    relay_seconds: float | None
    """From the sync's start until the relay had published the whole backlog."""
    cpu: CpuUse

    @property
    def rate(self) -> float:
        return self.count / self.seconds


@dataclass(frozen=True, slots=True)
class Measured:
    hub: Throughput
    hub_light: Paced
    hub_paced: Paced
    write_only: Throughput
    drain: Drain
    raw: Throughput
    raw_light: Paced
    raw_paced: Paced
    value_bytes: float
    header_bytes: float
    postgres_version: str


# -- the hub -----------------------------------------------------------------------


class Progress:
    """Prints, every couple of seconds, how far the writers, the relay and the sinks are."""

    def __init__(self, what: str, sources: dict[str, Callable[[], int]], every: float = 2.0):
        self.what = what
        self.sources = sources
        self.every = every
        self.samples: list[tuple[float, dict[str, int]]] = []
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Progress:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def sample(self) -> dict[str, int]:
        values = {name: read() for name, read in self.sources.items()}
        self.samples.append((time.monotonic(), values))
        return values

    def first_reaching(self, name: str, value: int) -> float | None:
        return next((t for t, v in self.samples if v[name] >= value), None)

    async def _run(self) -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.05)
            values = self.sample()
            if time.monotonic() - last >= self.every:
                last = time.monotonic()
                say(f"  {self.what}: " + ", ".join(f"{k} {v:,}" for k, v in values.items()))


def hub_settings(url: str, bootstrap: str, prefix: str, sync: SyncMode, pool: int) -> Settings:
    return Settings(
        database_url=Secret(url),
        sync=sync,
        kafka_bootstrap_servers=bootstrap if sync is SyncMode.KAFKA else None,
        kafka_topic_prefix=prefix,
        pool_max_size=pool,
    )


async def measure_hub(
    plan: Plan,
    app: Starlette,
    meter: CpuMeter,
    profile: Path | None,
) -> tuple[Throughput, Paced, Paced]:
    """Warm-up, the sustained burst and the two fixed-rate phases, on a started hub."""
    sync: SyncSupervisor = app.state.sync
    tracker = Tracker()
    sinks = recording_sinks(sync)
    for node, sink in sinks.items():
        sink.received = TimedReceived(node, tracker)
    work = Workload(app.state.service, tracker)
    relay = sync.relay
    assert relay is not None

    def check_sync() -> None:
        if sync.failure is not None:
            raise RuntimeError(f"a sync loop died: {sync.failure}")

    say(f"warm-up: {plan.warmup:,} changes")
    await work.burst(plan.warmup, plan.writers, seed=1)
    await tracker.drained(120, "warm-up")
    check_sync()

    say(f"sustained: {plan.changes:,} changes from {plan.writers} writers")
    base_commits, base_relayed = work.committed, relay.published
    sources = {
        "committed": lambda: work.committed - base_commits,
        "relayed": lambda: relay.published - base_relayed,
        "applied everywhere": lambda: len(tracker.done) - base_commits,
    }
    profiler = cProfile.Profile() if profile is not None else None
    cpu_before = meter.snapshot()
    start = time.monotonic()
    async with Progress("sustained", sources) as progress:
        if profiler is not None:
            profiler.enable()
        await work.burst(plan.changes, plan.writers, seed=2)
        committed_at = time.monotonic()
        await tracker.drained(max(300, plan.changes / 50), "sustained")
        if profiler is not None:
            profiler.disable()
        progress.sample()
    cpu_after = meter.snapshot()
    check_sync()
    burst_keys = list(tracker.expected)[base_commits:]
    delivered_at = max(tracker.done[k] for k in burst_keys)
    relayed_at = progress.first_reaching("relayed", plan.changes)
    hub = Throughput(
        count=plan.changes,
        handed_over=committed_at - start,
        relayed=relayed_at - start if relayed_at is not None else None,
        delivered=delivered_at - start,
        cpu=CpuMeter.use(cpu_before, cpu_after),
    )
    say(
        f"hub sustained: {hub.rate:,.0f} changes/s end to end; writes "
        f"{hub.count / hub.handed_over:,.0f}/s; {hub.cpu.text()}"
    )
    if profiler is not None and profile is not None:
        _dump(profiler, profile / "sustained.pstats")

    async def fixed_rate(rate: float, seconds: float, seed: int) -> Paced:
        say(f"fixed rate: {rate:g} changes/s for {seconds:g} s (open loop)")
        cpu_before = meter.snapshot()
        async with Progress(f"{rate:g}/s", sources):
            due_of = await work.paced(rate, seconds, seed=seed)
            sent_at = time.monotonic()
            await tracker.drained(max(120, len(due_of) / 20), f"{rate:g}/s")
        cpu_after = meter.snapshot()
        check_sync()
        first_due = min(due for _, due in due_of)
        paced = Paced(
            count=len(due_of),
            sent_over=sent_at - first_due,
            latency=Latency.of([tracker.done[k] - tracker.committed[k] for k, _ in due_of]),
            from_due=Latency.of([tracker.done[k] - due for k, due in due_of]),
            write=Latency.of([tracker.committed[k] - due for k, due in due_of]),
            cpu=CpuMeter.use(cpu_before, cpu_after),
        )
        say(f"hub at {rate:g}/s: {paced.latency.text()} from commit")
        return paced

    light = await fixed_rate(plan.light_rate, plan.light_seconds, seed=3)
    paced = await fixed_rate(plan.rate, plan.seconds, seed=6)
    verify(sinks, tracker, work.latest)
    say(f"checked: all {len(tracker.expected):,} changes reached each involved node exactly once")
    return hub, light, paced


async def outbox_envelopes(url: str) -> list[Envelope]:
    """The hub's events as the relay put them on the wire (the bytes stored at write
    time), in outbox order."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT event_id, record_key, record_value, record_header_names, "
            "record_header_values, CASE WHEN record_key IS NULL THEN data END AS data "
            "FROM outbox ORDER BY id"
        )
    finally:
        await conn.close()
    return [stored_envelope(r) for r in rows]


async def measure_write_only(
    plan: Plan, url: str, meter: CpuMeter, pool: int
) -> tuple[Throughput, Workload]:
    """The write path with sync off: how fast commits go when nothing else runs.

    Its changes stay in the outbox, the backlog ``measure_drain`` then syncs.
    """
    app = create_app(hub_settings(url, "", "", SyncMode.OFF, pool))
    work = Workload(app.state.service, Tracker())
    async with app.router.lifespan_context(app):
        await work.burst(plan.warmup, plan.writers, seed=4)
        say(f"write path alone (sync off): {plan.changes:,} changes")
        before = meter.snapshot()
        start = time.monotonic()
        await work.burst(plan.changes, plan.writers, seed=5)
        seconds = time.monotonic() - start
        cpu = CpuMeter.use(before, meter.snapshot())
    say(f"write path alone: {plan.changes / seconds:,.0f} changes/s; {cpu.text()}")
    return Throughput(plan.changes, seconds, None, seconds, cpu), work


async def measure_drain(
    app: Starlette, work: Workload, meter: CpuMeter, profile: Path | None
) -> Drain:
    """The sync path alone: a hub starts with ``work``'s changes waiting in the outbox.

    Its sinks rejoin their groups where the first hub left them; the rate runs from
    the first apply to the last change applied everywhere, so the group join is not
    in it and the write path is not either.
    """
    tracker = work.tracker
    sync: SyncSupervisor = app.state.sync
    sinks = recording_sinks(sync)
    for node, sink in sinks.items():
        sink.received = TimedReceived(node, tracker)
    relay = sync.relay
    assert relay is not None
    count = len(tracker.expected)
    say(f"sync path alone: a hub starts with {count:,} changes in its outbox")
    profiler = cProfile.Profile() if profile is not None else None
    async with app.router.lifespan_context(app):
        started = time.monotonic()
        cpu_before = meter.snapshot()
        if profiler is not None:
            profiler.enable()
        sources = {
            "relayed": lambda: relay.published,
            "applied everywhere": lambda: len(tracker.done),
        }
        async with Progress("sync alone", sources) as progress:
            await tracker.drained(max(300, count / 20), "sync alone")
            progress.sample()
        if profiler is not None:
            profiler.disable()
        cpu = CpuMeter.use(cpu_before, meter.snapshot())
        if sync.failure is not None:
            raise RuntimeError(f"a sync loop died: {sync.failure}")
    first = min(min(nodes.values()) for nodes in tracker.applied.values())
    relayed_at = progress.first_reaching("relayed", count)
    drain = Drain(
        count=count,
        seconds=max(tracker.done.values()) - first,
        relay_seconds=relayed_at - started if relayed_at is not None else None,
        cpu=cpu,
    )
    if profiler is not None and profile is not None:
        _dump(profiler, profile / "sync_alone.pstats")
    verify(sinks, tracker, work.latest)
    say(f"sync path alone: {drain.rate:,.0f} changes/s applied everywhere; {cpu.text()}")
    return drain


def _dump(profiler: cProfile.Profile, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    profiler.dump_stats(path)
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(25)
    say(f"profile in {path}; by own time:\n{text.getvalue()}")


# -- raw aiokafka ------------------------------------------------------------------


class RawTracker:
    """Per message: when it was sent, and when the last of the groups received it."""

    def __init__(self, count: int, groups: int) -> None:
        self.groups = groups
        self.seen = [0] * count
        self.sent = [0.0] * count
        self.done = [0.0] * count
        self.remaining = 0

    def expect(self, indexes: range) -> None:
        self.remaining += len(indexes)

    def on_receive(self, index: int, at: float) -> None:
        seen = self.seen[index] + 1
        self.seen[index] = seen
        if seen == self.groups:
            self.done[index] = at
            self.remaining -= 1

    async def drained(self, within: float, what: str) -> None:
        deadline = time.monotonic() + within
        while self.remaining:
            if time.monotonic() > deadline:
                raise RuntimeError(f"raw {what}: {self.remaining:,} messages not received by all")
            await asyncio.sleep(0.01)


async def measure_raw(
    plan: Plan,
    bootstrap: str,
    prefix: str,
    partitions: int,
    envelopes: list[Envelope],
    meter: CpuMeter,
) -> tuple[Throughput, Paced, Paced]:
    """The same messages through plain aiokafka: one idempotent producer, 19 groups."""
    topic = f"{prefix}raw-events"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, partitions, 1)])
    finally:
        await admin.close()
    index_of = {dict(e.headers)["ce_id"]: i for i, e in enumerate(envelopes)}
    tracker = RawTracker(len(envelopes), GROUPS)
    # The hub's producer and consumer settings (hub/sync/kafka.py).
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        enable_idempotence=True,
        acks="all",
        linger_ms=2,
        request_timeout_ms=30_000,
    )
    consumers = [
        AIOKafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            group_id=f"{prefix}raw-group-{g}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=10_000,
            heartbeat_interval_ms=1_000,
            max_poll_records=1_000,
        )
        for g in range(GROUPS)
    ]
    stop = asyncio.Event()

    async def consume(consumer: AIOKafkaConsumer) -> None:
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=200, max_records=500)
            at = time.monotonic()
            for records in batches.values():
                for record in records:
                    for name, value in record.headers:
                        if name == "ce_id":
                            tracker.on_receive(index_of[value], at)
                            break
            if batches:
                await consumer.commit()

    await producer.start()
    for consumer in consumers:
        await consumer.start()
    tasks = [asyncio.create_task(consume(c)) for c in consumers]
    try:

        async def send(index: int) -> asyncio.Future[object]:
            envelope = envelopes[index]
            tracker.sent[index] = time.monotonic()
            future: asyncio.Future[object] = await producer.send(
                topic, envelope.value, key=envelope.key, headers=envelope.headers
            )
            return future

        async def burst(indexes: range) -> float:
            tracker.expect(indexes)
            pending = [await send(i) for i in indexes]
            await asyncio.gather(*pending)
            return time.monotonic()

        say(f"raw warm-up: {plan.warmup:,} messages, {GROUPS} consumer groups joining")
        await burst(range(plan.warmup))
        await tracker.drained(120, "warm-up")

        say(f"raw sustained: {plan.changes:,} messages")
        indexes = range(plan.warmup, plan.warmup + plan.changes)
        cpu_before = meter.snapshot()
        start = time.monotonic()
        acked_at = await burst(indexes)
        await tracker.drained(max(300, plan.changes / 50), "sustained")
        raw = Throughput(
            count=plan.changes,
            handed_over=acked_at - start,
            relayed=None,
            delivered=max(tracker.done[i] for i in indexes) - start,
            cpu=CpuMeter.use(cpu_before, meter.snapshot()),
        )
        say(f"raw sustained: {raw.rate:,.0f} messages/s to all {GROUPS} groups; {raw.cpu.text()}")

        async def fixed_rate(rate: float, seconds: float, first: int) -> Paced:
            say(f"raw fixed rate: {rate:g} messages/s for {seconds:g} s")
            indexes = range(first, first + round(rate * seconds))
            tracker.expect(indexes)
            cpu_before = meter.snapshot()
            start = time.monotonic() + 0.01
            due: dict[int, float] = {}
            pending = []
            for n, i in enumerate(indexes):
                due[i] = start + n / rate
                delay = due[i] - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                pending.append(await send(i))
            sent_at = time.monotonic()
            await asyncio.gather(*pending)
            await tracker.drained(120, f"{rate:g}/s")
            paced = Paced(
                count=len(indexes),
                sent_over=sent_at - start,
                latency=Latency.of([tracker.done[i] - tracker.sent[i] for i in indexes]),
                from_due=Latency.of([tracker.done[i] - due[i] for i in indexes]),
                write=None,
                cpu=CpuMeter.use(cpu_before, meter.snapshot()),
            )
            say(f"raw at {rate:g}/s: {paced.latency.text()} from send")
            return paced

        first = plan.warmup + plan.changes
        raw_light = await fixed_rate(plan.light_rate, plan.light_seconds, first)
        raw_paced = await fixed_rate(plan.rate, plan.seconds, first + plan.light)
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        for consumer in consumers:
            await consumer.stop()
        await producer.stop()
    return raw, raw_light, raw_paced


async def delete_topics(bootstrap: str, prefix: str) -> None:
    """Leaves the broker as it was: this run's topics go."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        mine = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if mine:
            await admin.delete_topics(mine)
    finally:
        await admin.close()


# -- the run -----------------------------------------------------------------------


async def fresh_database(server_url: str) -> tuple[str, str]:
    """A new empty database for this run (the last run's is dropped); its URL and the
    server's version."""
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{DATABASE}"')
        version = str(await admin.fetchval("SHOW server_version"))
    finally:
        await admin.close()
    return f"{server_url.rpartition('/')[0]}/{DATABASE}", version


def hub_app(settings: Settings, fetch: Fetch) -> Starlette:
    """The hub as ``create_app`` builds it, its sinks' consumers fetching as ``fetch`` says
    (set before the lifespan starts them), recording what they receive."""
    app = create_app(settings, sinks=recording_sinks_for_nodes())
    bus = app.state.sync.bus
    assert isinstance(bus, KafkaBus)
    bus.fetch = fetch
    return app


async def run(plan: Plan, profile: Path | None, pool: int, fetch: Fetch = FETCH) -> Measured:
    postgres = EmbeddedPostgres(POSTGRES_DIR, durable=False)
    broker = KafkaBroker(KAFKA_DIR)
    say("starting PostgreSQL and the Kafka broker")
    server_url, bootstrap = await asyncio.gather(
        asyncio.to_thread(postgres.start), broker.start_async()
    )
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    try:
        url, pg_version = await fresh_database(server_url)
        postmaster = int((postgres.pgdata / "postmaster.pid").read_text().split()[0])
        meter = CpuMeter(postmaster, broker.pid)
        settings = hub_settings(url, bootstrap, prefix, SyncMode.KAFKA, pool)
        app = hub_app(settings, fetch)
        say(f"hub starting: Kafka at {bootstrap}, topics {prefix}*, pool up to {pool}")
        async with app.router.lifespan_context(app):
            hub, hub_light, hub_paced = await measure_hub(plan, app, meter, profile)
        write_only, backlog = await measure_write_only(plan, url, meter, pool)
        drain = await measure_drain(hub_app(settings, fetch), backlog, meter, profile)
        envelopes = await outbox_envelopes(url)
        needed = plan.warmup + plan.changes + plan.light + plan.paced
        if len(envelopes) < needed:
            raise RuntimeError(f"the outbox holds {len(envelopes)} events, not {needed}")
        raw, raw_light, raw_paced = await measure_raw(
            plan, bootstrap, prefix, settings.kafka_partitions, envelopes[:needed], meter
        )
        await delete_topics(bootstrap, prefix)
    finally:
        say("stopping the Kafka broker and PostgreSQL")
        await broker.stop_async()
        await asyncio.to_thread(postgres.stop)
    return Measured(
        hub=hub,
        hub_light=hub_light,
        hub_paced=hub_paced,
        write_only=write_only,
        drain=drain,
        raw=raw,
        raw_light=raw_light,
        raw_paced=raw_paced,
        value_bytes=statistics.fmean(len(e.value) for e in envelopes),
        header_bytes=statistics.fmean(
            sum(len(k) + len(v) for k, v in e.headers) for e in envelopes
        ),
        postgres_version=pg_version,
    )


def source_state() -> str:
    """The commit measured, and whether the code under it had uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "hub", "schema", "infra"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.splitlines()
    except OSError:
        return "an unknown commit"
    if not head:
        return "an unknown commit"
    return f"`{head}`" + (
        f" with {len(dirty)} uncommitted files in hub/ schema/ infra/" if dirty else ""
    )


def kafka_version() -> str:
    jars = sorted(default_lib_dir().glob("kafka_2.13-*.jar"))
    return jars[0].stem.removeprefix("kafka_2.13-") if jars else "unknown"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f}"


def _ratio(hub: float, raw: float, digits: int = 2) -> str:
    return f"{hub / raw:.{digits}f}" if raw > 0 else "–"


def _table(plan: Plan, m: Measured) -> list[str]:
    hub, raw, wo = m.hub, m.raw, m.write_only
    hub_in, raw_in = hub.count / hub.handed_over, raw.count / raw.handed_over
    rows = [
        (
            "sustained, end to end (changes/s)",
            f"{hub.rate:,.0f}",
            f"{raw.rate:,.0f}",
            _ratio(hub.rate, raw.rate),
        ),
        (
            "sustained, committed (hub) / acked by the broker (raw) per s",
            f"{hub_in:,.0f}",
            f"{raw_in:,.0f}",
            _ratio(hub_in, raw_in),
        ),
        (
            "sustained, published by the outbox relay per s",
            f"{hub.count / hub.relayed:,.0f}" if hub.relayed else "–",
            "–",
            "–",
        ),
        ("write path alone, `sync=off` (changes/s)", f"{wo.count / wo.handed_over:,.0f}", "–", "–"),
        (
            "sync path alone, working off a backlog (changes/s applied everywhere)",
            f"{m.drain.rate:,.0f}",
            f"{raw.rate:,.0f}",
            _ratio(m.drain.rate, raw.rate),
        ),
        (
            "sync path alone: the relay publishing that backlog (changes/s)",
            f"{m.drain.count / m.drain.relay_seconds:,.0f}" if m.drain.relay_seconds else "–",
            "–",
            "–",
        ),
    ]
    for rate, hp, rp in (
        (plan.light_rate, m.hub_light, m.raw_light),
        (plan.rate, m.hub_paced, m.raw_paced),
    ):
        at = f"at {rate:g}/s:"
        for name, hub_s, raw_s in (
            ("p50", hp.latency.p50, rp.latency.p50),
            ("p99", hp.latency.p99, rp.latency.p99),
            ("max", hp.latency.max, rp.latency.max),
        ):
            rows.append(
                (f"{at} {name} latency (ms)", _ms(hub_s), _ms(raw_s), _ratio(hub_s, raw_s, 1))
            )
        rows.append(
            (
                f"{at} p50 / p99 from the due time (ms)",
                f"{_ms(hp.from_due.p50)} / {_ms(hp.from_due.p99)}",
                f"{_ms(rp.from_due.p50)} / {_ms(rp.from_due.p99)}",
                "–",
            )
        )
        if hp.write is not None:
            rows.append(
                (
                    f"{at} commit p50 / p99 from the due time (ms)",
                    f"{_ms(hp.write.p50)} / {_ms(hp.write.p99)}",
                    "–",
                    "–",
                )
            )
    lines = ["| measure | hub | raw aiokafka | hub / raw |", "|---|---:|---:|---:|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return lines


def _cpu_table(plan: Plan, m: Measured) -> list[str]:
    phases = [
        ("hub, sustained", m.hub.cpu, m.hub.count),
        (f"hub, {plan.light_rate:g}/s", m.hub_light.cpu, m.hub_light.count),
        (f"hub, {plan.rate:g}/s", m.hub_paced.cpu, m.hub_paced.count),
        ("write path alone", m.write_only.cpu, m.write_only.count),
        ("sync path alone", m.drain.cpu, m.drain.count),
        ("raw, sustained", m.raw.cpu, m.raw.count),
        (f"raw, {plan.light_rate:g}/s", m.raw_light.cpu, m.raw_light.count),
        (f"raw, {plan.rate:g}/s", m.raw_paced.cpu, m.raw_paced.count),
    ]
    lines = [
        "| phase | items | cores: Python | PostgreSQL | Kafka | anything else "
        "| CPU ms per item: Python | PostgreSQL | Kafka |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, c, count in phases:
        py, pg, kafka = c.per_item(count)
        lines.append(
            f"| {name} | {count:,} | {c.hub:.2f} | {c.postgres:.2f} | {c.kafka:.2f} "
            f"| {c.other:.2f} | {py:.2f} | {pg:.2f} | {kafka:.2f} |"
        )
    return lines


def report(plan: Plan, m: Measured, facts: dict[str, str], pool: int, fetch: Fetch) -> str:
    """The RESULTS.md section of this run."""
    hub, hp, rp = m.hub, m.hub_paced, m.raw_paced
    rate_ok = hub.rate >= TARGET_RATE
    p99_ok = hp.latency.p99 <= TARGET_P99
    quick = plan.name == "quick"
    caveat = (
        "\n_Quick mode: short phases, a smoke test of the benchmark; quote the full mode._\n"
        if quick
        else ""
    )
    table = "\n".join(_table(plan, m))
    cpu = "\n".join(_cpu_table(plan, m))
    defaults = ", aiokafka fetch defaults" if fetch != FETCH else ""
    flag = " --fetch-defaults" if fetch != FETCH else ""
    return f"""\
## sync_throughput, {plan.name} mode{defaults}
{caveat}
`python -m bench.sync_throughput{" --quick" if quick else ""}{flag}`, {facts["date"]}, hub code at
{facts["source"]}.

- **Machine**: {facts["nproc"]} CPUs ({facts["cpu"]}), Python {facts["python"]} (asyncio
  event loop); {facts["packages"]}; PostgreSQL {m.postgres_version} (embedded,
  `durable=False`), Apache Kafka {facts["kafka"]} (one KRaft node, `infra/kafka`). Load
  average before the run {facts["load before"]}, after {facts["load after"]}: the machine is
  shared, so other work may have run meanwhile ("anything else" below).
- **Hub**: as it ships, `create_app(Settings(sync=SyncMode.KAFKA, ...), sinks=...)` run through its
  lifespan in this process: outbox relay, 19 node sinks (`RecordingSink`, one consumer group
  each, fetching with fetch_min_bytes {fetch.min_bytes:,} and fetch_max_wait_ms
  {fetch.max_wait_ms}), the subscription broadcaster; {Settings.kafka_partitions} partitions, pool
  {Settings.pool_min_size}–{pool} connections, a fresh database. Changes go through
  `ReportService.execute` from {plan.writers} concurrent writers, each owning its reports (no
  version conflicts), with the mix of `tests/hub/sync/workload.py` over all 19 nodes. A change
  counts as applied when every node it involves (origin, region, each institution it was
  ever at, national) has applied it, timed with `time.monotonic()` at the sink; the run
  checks that every node got each of its changes exactly once and nothing else.
- **Raw aiokafka**: the hub's own events, read back from its outbox and encoded as the
  relay does (value {m.value_bytes:.0f} B, headers {m.header_bytes:.0f} B on average), sent
  once each (the hub sends each twice: events and state topics) by an idempotent `acks=all`
  producer (`linger_ms=2`, as the hub's) to a {Settings.kafka_partitions}-partition topic,
  read by {GROUPS} consumer groups in this process, each polling and committing per batch as
  a sink does, without decoding.
- **Phases**: {plan.warmup:,} changes (messages) of warm-up first, not measured. Sustained:
  {plan.changes:,} as fast as they go; the clock runs from the first write (send) until the
  last change reached every involved node (every group). Fixed rates, open loop (each
  change starts at its due time, whatever the earlier ones are doing): {plan.light_rate:g}/s
  for {plan.light_seconds:g} s ({plan.light:,}), well within what the write path sustains,
  then the issue's {plan.rate:g}/s for {plan.seconds:g} s ({plan.paced:,}); latency from the
  commit (`execute` returned; raw: the `send` call) to the last involved sink's apply (raw:
  the last group's receipt). Write path alone: the same {plan.changes:,} changes (after
  {plan.warmup:,} of warm-up) with `sync=off`, left in the outbox. Sync path alone: a new
  hub (same topics and groups) starts with those {m.drain.count:,} changes waiting; rate
  from its first apply to the last change applied everywhere (so neither the group join nor
  the write path is in it; with a backlog as small as quick mode's, the relay may have
  published all of it before the sinks rejoined, and the figure is the sinks' alone); the raw
  figure beside it is raw Kafka's sustained rate.

{table}

Where the CPU went in each phase: cores kept busy on average (1.0 = one of the
{facts["nproc"]}; "Python" is this process: the hub, or the raw clients), and CPU
milliseconds per change (message). The machine is shared: "anything else" is every other
process, which took that CPU from the run.

{cpu}

Ratios to raw Kafka: **throughput hub / raw = {_ratio(hub.rate, m.raw.rate)}** end to end,
**{_ratio(m.drain.rate, m.raw.rate)}** for the sync path alone; **p99 latency hub / raw =
{_ratio(hp.latency.p99, rp.latency.p99, 1)}**.
Targets: ≥ {TARGET_RATE:,.0f} changes/s sustained: **{"met" if rate_ok else "not met"}**
({hub.rate:,.0f}); p99 ≤ {TARGET_P99 * 1000:,.0f} ms at {plan.rate:g}/s:
**{"met" if p99_ok else "not met"}** ({_ms(hp.latency.p99)} ms).
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the benchmark; returns the process exit status."""
    parser = argparse.ArgumentParser(prog="python -m bench.sync_throughput", description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="600 changes, fixed rates for 3 s and 1 s: a smoke test (about 90 s)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="cProfile the hub's sustained and sync-alone phases into DIR/*.pstats",
    )
    parser.add_argument(
        "--pool",
        type=int,
        default=Settings.pool_max_size,
        help="the hub's pool_max_size (default: the shipped default)",
    )
    parser.add_argument(
        "--fetch-defaults",
        action="store_true",
        help="the sinks' consumers with aiokafka's fetch settings (fetch_min_bytes 1, "
        "fetch_max_wait_ms 500), as before hub.sync.kafka.FETCH: the fan-out baseline",
    )
    parser.add_argument("--no-write", action="store_true", help="do not touch bench/RESULTS.md")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    fetch = Fetch(min_bytes=1, max_wait_ms=500) if args.fetch_defaults else FETCH
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # aiokafka logs ERROR for the expected: a fresh broker's coordinator still loading,
    # a new topic's leader not yet elected. A real failure fails the run (nothing arrives).
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    started = time.perf_counter()
    facts = machine_facts(("asyncpg", "aiokafka"))
    facts["source"] = source_state()
    facts["load before"] = load_average()
    measured = asyncio.run(run(plan, args.profile, args.pool, fetch))
    # After the run: a fresh checkout fetches the broker's jars when it first starts one.
    facts["kafka"] = kafka_version()
    facts["load after"] = load_average()
    section = report(plan, measured, facts, args.pool, fetch)
    if not args.no_write:
        fetched = ", aiokafka fetch defaults" if args.fetch_defaults else ""
        write_section(f"sync_throughput {plan.name}{fetched}", section)
    print(section)
    say(f"done in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
