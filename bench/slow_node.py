"""One node whose API answers in 50 ms: how many changes a second its sink writes back.

``python -m bench.slow_node [--events N] [--rounds N] [--delay 0.05] [--caps N ...]``
starts an embedded PostgreSQL (``durable=False``) and a real Apache Kafka broker,
migrates a fresh database, and for each concurrency cap runs the hub's own
``SinkWorker`` (its consumer group, its intents, inbox and version guard, all real)
against a node that takes ``delay`` seconds per call. Each case gets its own topics,
filled beforehand with the same number of events (several versions each of many
reports, interleaved as a partition carries them); the rate runs from the start of the
node's first call to the end of its last. Cap 1 is one call at a time, as every sink
worked before write-backs ran in parallel: the baseline, in the same run. The cases
rotate over the rounds; medians are shown.

A case whose node missed an event, got one twice or got a report's events out of
version order is reported as failed, with no figure.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bench.harness import load_average, machine_facts, say, write_section
from bench.stack import stack
from hub.store.database import Database
from hub.sync.bus import Topics
from hub.sync.kafka import KafkaBus
from hub.sync.sink import SinkWorker
from schema.envelope import encode
from schema.events import ReportEvent
from schema.lifecycle import ReportState, Verb
from schema.report import ActorRole, ReportKind

NODE = "16.07"
TARGET = 100.0
"""The issue's target for a node answering in 50 ms: changes per second."""
FLOW = (ReportState.VERIFIED, ReportState.DISPOSED, ReportState.IN_FOLLOW_UP,
        ReportState.COMPLETED)  # fmt: skip


@dataclass
class SlowNode:
    """A node system that takes ``delay`` seconds to answer each call."""

    delay: float
    node_code: str = NODE
    calls: list[tuple[float, str, int, str]] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    first_call: float | None = None
    expected: int = 0
    all_in: asyncio.Event = field(default_factory=asyncio.Event)

    async def apply(self, event: ReportEvent) -> None:
        if self.first_call is None:
            self.first_call = time.monotonic()
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
            self.calls.append((time.monotonic(), event.report_id, event.version, event.event_id))
            if len(self.calls) >= self.expected:
                self.all_in.set()
        finally:
            self.in_flight -= 1

    async def reconcile(self, event: ReportEvent) -> bool:
        await self.apply(event)
        return False


def change(report_id: str, version: int, state: ReportState) -> ReportEvent:
    return ReportEvent(
        event_id=str(uuid.uuid4()), report_id=report_id, version=version, verb=Verb.VERIFY,
        previous_state=None, state=state, kind=ReportKind.COMPLAINT, region_code=NODE,
        origin_node=NODE, institution_codes=(), involved_nodes=(NODE, "lapor"),
        external_refs=(), occurred_at=datetime.now(UTC),
        actor_node="16", actor_role=ActorRole.INSTITUTION_ADMIN,
    )  # fmt: skip


def workload(events: int) -> list[ReportEvent]:
    reports = [str(uuid.uuid4()) for _ in range(events // len(FLOW))]
    return [change(rid, v + 2, state) for v, state in enumerate(FLOW) for rid in reports]


def faults(node: SlowNode, events: list[ReportEvent]) -> list[str]:
    """What the node got wrong: missed, doubled or out-of-order events."""
    ids = [c[3] for c in node.calls]
    found = []
    if len(set(ids)) != len(ids):
        found.append(f"{len(ids) - len(set(ids))} events applied twice")
    if missing := {e.event_id for e in events} - set(ids):
        found.append(f"{len(missing)} events never applied")
    per_report: dict[str, list[int]] = {}
    for _, rid, version, _ in node.calls:
        per_report.setdefault(rid, []).append(version)
    if disordered := [r for r, vs in per_report.items() if vs != sorted(vs)]:
        found.append(f"{len(disordered)} reports applied out of version order")
    return found


@dataclass(frozen=True, slots=True)
class Case:
    cap: int
    rate: float | None
    most_in_flight: int
    faults: tuple[str, ...]


async def run_case(
    db: Database, bootstrap: str, cap: int, events: list[ReportEvent], delay: float
) -> Case:
    bus = KafkaBus(bootstrap, Topics(prefix=f"slow{uuid.uuid4().hex[:8]}.", partitions=6))
    await bus.start()
    try:
        await bus.producer.publish(bus.topics.events, [encode(e) for e in events])
        node = SlowNode(delay, expected=len(events))
        worker = SinkWorker(node, bus, db, concurrency=cap)
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        all_in = asyncio.create_task(node.all_in.wait())
        await asyncio.wait([task, all_in], timeout=30 + 2 * len(events) * delay,
                           return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
        all_in.cancel()
        stop.set()
        await task
    finally:
        await bus.stop()
    problems = faults(node, events)
    span = node.calls[-1][0] - node.first_call if node.calls and node.first_call else 0.0
    rate = len(node.calls) / span if span > 0 and not problems else None
    return Case(cap, rate, node.most_in_flight, tuple(problems))


async def run(caps: Sequence[int], events: int, rounds: int, delay: float) -> list[list[Case]]:
    results: list[list[Case]] = [[] for _ in caps]
    async with stack("slow-node") as where:
        db = Database(where.database_url, min_size=1, max_size=4)
        await db.open()
        try:
            await db.migrate()
            for r in range(rounds):
                order = list(range(len(caps)))
                order = order[r % len(order) :] + order[: r % len(order)]
                for i in order:
                    case = await run_case(db, where.bootstrap, caps[i], workload(events), delay)
                    say(f"round {r + 1}, cap {caps[i]}: {case}")
                    results[i].append(case)
        finally:
            await db.close()
    return results


def report(
    caps: Sequence[int], results: list[list[Case]], events: int, delay: float, facts: dict[str, str]
) -> str:
    rows = []
    base = results[0]
    for cap, cases in zip(caps, results, strict=True):
        bad = [f for c in cases for f in c.faults]
        if bad:
            rows.append(f"| {cap} | FAILED: {'; '.join(sorted(set(bad)))} | | | |")
            continue
        rates = [c.rate or 0.0 for c in cases]
        ratios = [c.rate / b.rate for c, b in zip(cases, base, strict=True) if c.rate and b.rate]
        rows.append(
            f"| {cap} | {statistics.median(rates):,.0f} | {min(rates):,.0f}–{max(rates):,.0f} "
            f"| {statistics.median(ratios):.2f} | {max(c.most_in_flight for c in cases)} |"
        )
    table = "\n".join(rows)
    return f"""\
## slow_node: write-backs to a node answering in {delay * 1000:g} ms

`python -m bench.slow_node --events {events} --rounds {len(base)}`, {facts["date"]}, machine
{facts["nproc"]} CPUs ({facts["cpu"]}), Python {facts["python"]}; load average before
{facts["load before"]}, after {facts["load after"]} (the machine is shared).

One `SinkWorker` as the hub runs it (its consumer group on a real Kafka broker, 6
partitions; intents, inbox and version guard in an embedded PostgreSQL,
`durable=False`), writing back {events:,} events ({events // len(FLOW):,} reports,
{len(FLOW)} versions each, interleaved) to a node whose every call takes
{delay * 1000:g} ms. Rate from the start of the node's first call to the end of its last,
median over the rounds (the cases rotate); ratio to cap 1 (one call at a time, as every sink worked
before) in the same round. Every case checked: each event applied once, each
report's versions in order.

| node cap | changes/s (median) | range | ratio to cap 1 | most calls at once |
|---:|---:|---:|---:|---:|
{table}

The node table's default cap is 4 (`resilience.concurrency`); at {delay * 1000:g} ms a call
a cap of c bounds the rate at c / {delay:g} s, so the issue's {TARGET:g} changes/s needs a cap
of at least {TARGET * delay:g}: a node that can take it should say so in its table entry.
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.slow_node", description=__doc__)
    parser.add_argument("--events", type=int, default=800)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--delay", type=float, default=0.05, help="seconds per node call")
    parser.add_argument("--caps", type=int, nargs="+", default=[1, 4, 8, 16])
    parser.add_argument("--no-write", action="store_true", help="do not touch bench/RESULTS.md")
    args = parser.parse_args(argv)
    if args.caps[0] != 1:
        parser.error("the first cap is the baseline and must be 1")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    facts = machine_facts(("asyncpg", "aiokafka"))
    facts["load before"] = load_average()
    results = asyncio.run(run(args.caps, args.events, args.rounds, args.delay))
    facts["load after"] = load_average()
    section = report(args.caps, results, args.events, args.delay, facts)
    if not args.no_write:
        write_section("slow_node", section)
    print(section)
    return 0 if all(not c.faults for cases in results for c in cases) else 1


if __name__ == "__main__":
    sys.exit(main())
