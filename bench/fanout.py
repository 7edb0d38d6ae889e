"""What fanning each change out to 19 nodes costs the broker, shape by shape, in one run.

``python -m bench.fanout [--quick]`` starts a real Apache Kafka broker and an
embedded PostgreSQL (``durable=False``) and sends the same hub events (encoded by
``schema.envelope.encode``, about the size the relay sends) through plain
aiokafka to 19 node consumers in this process, in these shapes:

- **19 groups, as shipped**: one consumer group per node, each with the hub's
  consumer settings (``hub/sync/kafka.py`` before the fan-out work: aiokafka's
  fetch_min_bytes 1, fetch_max_wait_ms 500) and its loop (poll 0.2 s, commit after
  every non-empty batch). The baseline.
- **19 groups, batched polls** (option b): the same, with the fetch settings of
  ``hub.sync.kafka.FETCH`` (the broker holds a fetch until it has
  ``fetch_min_bytes`` or ``fetch_max_wait_ms`` passed).
- **1 group, dispatched** (option a, a prototype): one consumer group for the
  process; each polled batch is handed to 19 in-memory per-node queues, and each
  node's task notes its progress (per partition, the next offset) in PostgreSQL
  with one statement per batch, as a per-node cursor would be kept; the group
  commits after every batch. What it leaves out is listed in ``bench/RESULTS.md``.
- **1 group, the hub's dispatcher** (option a as built): ``hub.sync.dispatch.Dispatcher``
  with the hub's 19 ``SinkWorker``s on the hub's schema (migrated), each node's sink
  a recorder: every change goes through the sinks' inbox, intents, version guard
  and cursor, as in production. The events involve two nodes (16.71 and lapor), so
  each reaches those two; the other 17 skip it (their cursors move on). The shapes
  above keep the old structures measurable here, not in the hub.

Each shape runs a warm-up, then two fixed rates open loop (each message sent at
its due time) and a burst as fast as the broker acknowledges. Figures: broker
(Kafka JVM) CPU ms per change, this process's CPU ms per change, PostgreSQL's,
latency from send to the 19th node's receipt, and the burst's rate. Every message
must reach each of the 19 nodes exactly once per shape, else the shape is reported
as failed, with no figure.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
import uuid
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.harness import CpuMeter, CpuUse, load_average, machine_facts, say, write_section
from bench.stack import stack
from bench.sync_throughput import Latency
from hub.store.database import Database
from hub.sync.bus import Topics
from hub.sync.dispatch import Dispatcher
from hub.sync.kafka import FETCH, Fetch, KafkaBus
from hub.sync.sink import SinkWorker
from schema.envelope import Envelope, SharedDecoder, encode
from schema.events import ReportEvent
from schema.lifecycle import ReportState, Verb
from schema.nodes import NODES
from schema.report import ActorRole, ReportKind

NODE_CODES = [n.code for n in NODES]
INVOLVED = ("16.71", "lapor")
"""The nodes each benchmark event involves."""
PARTITIONS = 6
SHIPPED = Fetch(min_bytes=1, max_wait_ms=500)
POLL_WAIT_MS = 200
"""The sinks' poll: ``consumer.poll(0.2, ...)``."""
"""The consumer settings the sinks had before the fan-out work: aiokafka's defaults."""


@dataclass(frozen=True, slots=True)
class Shape:
    name: str
    groups: int
    fetch: Fetch


@dataclass(frozen=True, slots=True)
class Phase:
    what: str
    count: int
    cpu: CpuUse
    latency: Latency | None
    rate: float | None


@dataclass(frozen=True, slots=True)
class Plan:
    warmup: int
    rates: tuple[float, ...]
    seconds: float
    burst: int


FULL = Plan(warmup=500, rates=(100, 500), seconds=15, burst=20_000)
QUICK = Plan(warmup=200, rates=(100, 500), seconds=3, burst=3_000)


def change(report_id: str, version: int = 2) -> Envelope:
    return encode(
        ReportEvent(
            event_id=str(uuid.uuid4()),
            report_id=report_id,
            version=version,
            verb=Verb.VERIFY,
            previous_state=ReportState.SUBMITTED,
            state=ReportState.VERIFIED,
            kind=ReportKind.COMPLAINT,
            region_code="16.71",
            origin_node="16.71",
            institution_codes=("pemda-16.71",),
            involved_nodes=INVOLVED,
            external_refs=(),
            occurred_at=datetime.now(UTC),
            actor_node="16",
            actor_role=ActorRole.INSTITUTION_ADMIN,
        )
    )


def events(count: int) -> list[Envelope]:
    reports = [str(uuid.uuid4()) for _ in range(max(1, count // 4))]
    # Each report's versions rise, as the hub's sinks (version guard) expect.
    n = len(reports)
    return [change(reports[i % n], 2 + i // n) for i in range(count)]


class Receipts:
    """Per message: when it was sent, how many nodes got it, when the last one did."""

    def __init__(self, envelopes: list[Envelope], nodes: int = len(NODE_CODES)) -> None:
        self.index = {dict(e.headers)["ce_id"]: i for i, e in enumerate(envelopes)}
        self.nodes = nodes
        """How many nodes each message must reach."""
        self.sent = [0.0] * len(envelopes)
        self.seen = [0] * len(envelopes)
        self.done = [0.0] * len(envelopes)
        self.complete = 0

    def receive(self, record: ConsumerRecord[bytes, bytes], at: float) -> None:
        for name, value in record.headers:
            if name == "ce_id":
                self.receive_id(value, at)
                return

    def receive_id(self, event_id: bytes, at: float) -> None:
        i = self.index[event_id]
        self.seen[i] += 1
        if self.seen[i] == self.nodes:
            self.done[i] = at
            self.complete += 1

    async def until(
        self, count: int, within: float, what: str, loops: Sequence[asyncio.Task[None]]
    ) -> None:
        deadline = time.monotonic() + within
        while self.complete < count:
            if died := [t for t in loops if t.done()]:
                raise RuntimeError(f"{what}: a consumer loop died: {died[0].exception()!r}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what}: {count - self.complete:,} messages not at all nodes")
            await asyncio.sleep(0.01)

    def faults(self) -> list[str]:
        twice = sum(1 for n in self.seen if n > self.nodes)
        return [f"{twice} messages reached a node twice"] if twice else []


def _consumer(bootstrap: str, topic: str, group: str, fetch: Fetch) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=10_000,
        heartbeat_interval_ms=1_000,
        max_poll_records=1_000,
        fetch_min_bytes=fetch.min_bytes,
        fetch_max_wait_ms=fetch.max_wait_ms,
    )


Loop = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


def group_per_node(
    bootstrap: str, topic: str, shape: Shape, receipts: Receipts
) -> tuple[list[AIOKafkaConsumer], list[Loop]]:
    """Option b's structure (and the shipped one): each node its own group."""
    consumers = [
        _consumer(bootstrap, topic, f"{topic}-{shape.name}-{n}", shape.fetch) for n in NODE_CODES
    ]

    def loop(consumer: AIOKafkaConsumer) -> Loop:
        async def run(stop: asyncio.Event) -> None:
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=POLL_WAIT_MS, max_records=500)
                at = time.monotonic()
                for records in batches.values():
                    for record in records:
                        receipts.receive(record, at)
                if batches:
                    await consumer.commit()

        return run

    return consumers, [loop(c) for c in consumers]


def one_group_dispatched(
    bootstrap: str, topic: str, shape: Shape, receipts: Receipts, pool: asyncpg.Pool
) -> tuple[list[AIOKafkaConsumer], list[Loop]]:
    """Option a's structure: one group, per-node queues, per-node progress in PostgreSQL."""
    consumer = _consumer(bootstrap, topic, f"{topic}-{shape.name}", shape.fetch)
    queues: dict[str, asyncio.Queue[list[ConsumerRecord[bytes, bytes]]]] = {
        n: asyncio.Queue() for n in NODE_CODES
    }

    async def dispatch(stop: asyncio.Event) -> None:
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=POLL_WAIT_MS, max_records=500)
            batch = [r for records in batches.values() for r in records]
            if batch:
                for queue in queues.values():
                    queue.put_nowait(batch)
                await asyncio.gather(*(q.join() for q in queues.values()))
                await consumer.commit()

    def node(code: str) -> Loop:
        async def run(stop: asyncio.Event) -> None:
            queue = queues[code]
            while True:
                batch = await queue.get()
                at = time.monotonic()
                upto: dict[int, int] = {}
                for record in batch:
                    receipts.receive(record, at)
                    upto[record.partition] = record.offset + 1
                await pool.execute(
                    """INSERT INTO bench_progress (node, part, next_offset)
                       SELECT $1, p, o FROM unnest($2::int[], $3::bigint[]) AS t (p, o)
                       ON CONFLICT (node, part) DO UPDATE SET next_offset = EXCLUDED.next_offset""",
                    code,
                    list(upto),
                    list(upto.values()),
                )
                queue.task_done()

        return run

    return [consumer], [dispatch, *(node(c) for c in NODE_CODES)]


@dataclass(slots=True)
class RecordingNode:
    """A node's system for the hub's own sinks: notes when each event arrived."""

    node_code: str
    receipts: Receipts

    async def apply(self, event: ReportEvent) -> None:
        self.receipts.receive_id(event.event_id.encode(), time.monotonic())

    async def reconcile(self, event: ReportEvent) -> bool:
        await self.apply(event)
        return False


def hub_dispatcher(
    bus: KafkaBus, db: Database, receipts: Receipts
) -> tuple[list[AIOKafkaConsumer], list[Loop]]:
    """Option a as built: the hub's dispatcher and sink workers, one group."""
    decoder = SharedDecoder()
    workers = [
        SinkWorker(RecordingNode(code, receipts), bus, db, decoder=decoder) for code in NODE_CODES
    ]
    return [], [Dispatcher(bus, db, workers).run]


async def measure(
    shape: Shape,
    plan: Plan,
    bootstrap: str,
    pool: asyncpg.Pool,
    meter: CpuMeter,
    db: Database,
) -> tuple[list[Phase], list[str]]:
    topic = f"fanout{uuid.uuid4().hex[:8]}"
    paced = [round(r * plan.seconds) for r in plan.rates]
    envelopes = events(total(plan))
    bus: KafkaBus | None = None
    if shape.groups == 0:
        bus = KafkaBus(bootstrap, Topics(prefix=f"{topic}.", partitions=PARTITIONS))
        await bus.start()  # creates the hub's topics
        topic = bus.topics.events
    else:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
        finally:
            await admin.close()
    receipts = Receipts(envelopes, len(INVOLVED) if bus is not None else len(NODE_CODES))
    if bus is not None:
        consumers, loops = hub_dispatcher(bus, db, receipts)
    elif shape.groups == 1:
        consumers, loops = one_group_dispatched(bootstrap, topic, shape, receipts, pool)
    else:
        consumers, loops = group_per_node(bootstrap, topic, shape, receipts)
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", linger_ms=2
    )
    await producer.start()
    for consumer in consumers:
        await consumer.start()
    stop = asyncio.Event()
    tasks = [asyncio.create_task(loop(stop)) for loop in loops]
    phases: list[Phase] = []
    sent = 0

    async def send(i: int) -> asyncio.Future[object]:
        e = envelopes[i]
        receipts.sent[i] = time.monotonic()
        future: asyncio.Future[object] = await producer.send(
            topic, e.value, key=e.key, headers=e.headers
        )
        return future

    try:
        say(f"{shape.name}: warm-up, {plan.warmup} messages")
        await asyncio.gather(*[await send(i) for i in range(plan.warmup)])
        sent = plan.warmup
        await receipts.until(sent, 120, "warm-up", tasks)
        for rate, count in zip(plan.rates, paced, strict=True):
            indexes = range(sent, sent + count)
            before = meter.snapshot()
            start = time.monotonic() + 0.01
            pending = []
            for n, i in enumerate(indexes):
                delay = start + n / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                pending.append(await send(i))
            await asyncio.gather(*pending)
            sent += count
            await receipts.until(sent, 120, f"{rate:g}/s", tasks)
            cpu = CpuMeter.use(before, meter.snapshot())
            latency = Latency.of([receipts.done[i] - receipts.sent[i] for i in indexes])
            phases.append(Phase(f"{rate:g}/s", count, cpu, latency, None))
            say(f"{shape.name} at {rate:g}/s: {latency.text()}; {cpu.text()}")
        indexes = range(sent, sent + plan.burst)
        before = meter.snapshot()
        start = time.monotonic()
        await asyncio.gather(*[await send(i) for i in indexes])
        sent += plan.burst
        await receipts.until(sent, 600, "burst", tasks)
        cpu = CpuMeter.use(before, meter.snapshot())
        rate = plan.burst / (max(receipts.done[i] for i in indexes) - start)
        phases.append(Phase("burst", plan.burst, cpu, None, rate))
        say(f"{shape.name} burst: {rate:,.0f} changes/s to all 19; {cpu.text()}")
    finally:
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for consumer in consumers:
            await consumer.stop()
        await producer.stop()
        if bus is not None:
            await bus.stop()
    return phases, receipts.faults()


async def run(plan: Plan, shapes: Sequence[Shape]) -> dict[str, tuple[list[Phase], list[str]]]:
    results: dict[str, tuple[list[Phase], list[str]]] = {}
    async with stack("fanout") as where:
        pool = await asyncpg.create_pool(where.database_url, min_size=1, max_size=4)
        try:
            await pool.execute(
                "CREATE TABLE bench_progress (node text, part int, next_offset bigint, "
                "PRIMARY KEY (node, part))"
            )
            meter = CpuMeter(where.postmaster, where.broker)
            db = Database(where.database_url, min_size=1, max_size=4)
            await db.open()
            await db.migrate()
            for shape in shapes:
                try:
                    results[shape.name] = await measure(
                        shape, plan, where.bootstrap, pool, meter, db
                    )
                except RuntimeError as error:
                    say(f"{shape.name} FAILED: {error}")
                    results[shape.name] = ([], [str(error)])
            await db.close()
        finally:
            await pool.close()
    return results


def report(
    plan: Plan,
    shapes: Sequence[Shape],
    results: dict[str, tuple[list[Phase], list[str]]],
    facts: dict[str, str],
    quick: bool,
) -> str:
    base = {p.what: p for p in results[shapes[0].name][0]}
    rows = []
    for shape in shapes:
        phases, faults = results[shape.name]
        if faults or not phases:
            rows.append(f"| {shape.name} | all | FAILED: {'; '.join(faults)} | | | | | |")
            continue
        for p in phases:
            python, postgres, kafka = p.cpu.per_item(p.count)
            b = base.get(p.what)
            ratio = f"{kafka / b.cpu.per_item(b.count)[2]:.2f}" if b is not None else "–"
            latency = (
                f"{p.latency.p50 * 1000:,.0f} / {p.latency.p99 * 1000:,.0f}" if p.latency else "–"
            )
            rate = f"{p.rate:,.0f}" if p.rate else "–"
            rows.append(
                f"| {shape.name} | {p.what} | {kafka:.2f} | {ratio} | {python:.2f} | "
                f"{postgres:.2f} | {latency} | {rate} |"
            )
    settings = "; ".join(
        f"{s.name}: {max(s.groups, 1)} group{'s' if s.groups > 1 else ''}, fetch_min_bytes "
        f"{s.fetch.min_bytes:,}, fetch_max_wait_ms {s.fetch.max_wait_ms}"
        for s in shapes
    )
    table = "\n".join(rows)
    return f"""\
## fanout{", quick mode" if quick else ""}: broker cost per change of the fan-out shapes

`python -m bench.fanout{" --quick" if quick else ""}`, {facts["date"]}, machine
{facts["nproc"]} CPUs ({facts["cpu"]}), Python {facts["python"]}, {facts["packages"]}; load
average before {facts["load before"]}, after {facts["load after"]} (the machine is shared:
CPU is measured per process, so other work shows only as noise in the latencies and the burst
rate).

The same {total(plan):,} hub events through plain aiokafka from an idempotent
`acks=all` producer to a {PARTITIONS}-partition topic on one real broker, read for the 19 nodes
in these shapes (each polling 0.2 s, as the sinks do): {settings}. Each shape:
{plan.warmup} messages of warm-up, then
{" and ".join(f"{r:g}/s" for r in plan.rates)} for {plan.seconds:g} s each, open loop, then
a burst of {plan.burst:,}. Every message reached each of the 19 nodes once (checked;
with the hub's dispatcher, each of the {len(INVOLVED)} nodes it involves, through the hub's
sinks: inbox, intents, version guard and cursors in PostgreSQL).
CPU in ms per change over the phase; the broker ratio is to the first shape's same phase in
this run. Latency from send to the last node's receipt.

| shape | phase | broker CPU ms/change | broker vs as shipped | Python CPU ms/change \
| PostgreSQL CPU ms/change | latency p50 / p99 ms | burst changes/s |
|---|---|---:|---:|---:|---:|---:|---:|
{table}
"""


def total(plan: Plan) -> int:
    return plan.warmup + sum(round(r * plan.seconds) for r in plan.rates) + plan.burst


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short phases: a smoke test")
    parser.add_argument("--no-write", action="store_true", help="do not touch bench/RESULTS.md")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    shapes = [
        Shape("19 groups, as shipped", len(NODE_CODES), SHIPPED),
        Shape("19 groups, batched polls (b)", len(NODE_CODES), FETCH),
        Shape("1 group, dispatched (a)", 1, FETCH),
        Shape("1 group, dispatched (a), aiokafka fetch defaults", 1, SHIPPED),
        Shape("1 group, the hub's dispatcher (a, as built)", 0, FETCH),
    ]
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    facts = machine_facts(("asyncpg", "aiokafka"))
    facts["load before"] = load_average()
    results = asyncio.run(run(plan, shapes))
    facts["load after"] = load_average()
    section = report(plan, shapes, results, facts, args.quick)
    if not args.no_write:
        write_section(f"fanout {'quick' if args.quick else 'full'}", section)
    print(section)
    return 0 if all(not faults for _, faults in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
