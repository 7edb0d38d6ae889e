"""A worker handing a node's partitions over under a backlog: it gives up the batch in
hand (the calls already out finish, what they settled is recorded, the rest is left to
the next owner) instead of writing all of it back first, so the partitions move within
seconds even when that batch would keep a slow node busy for half a minute. The node
still receives every event once, each report's in version order."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from hub.store.database import Database
from hub.sync.bus import Topics
from hub.sync.dispatch import Dispatcher
from hub.sync.kafka import KafkaBus
from hub.sync.sink import SinkWorker
from schema.envelope import encode
from schema.events import ReportEvent
from schema.lifecycle import ReportState, Verb
from schema.report import ActorRole, ReportKind
from tests.doubles import RecordingSink
from tests.hub.sync.conftest import wait_until

NODE = "lapor"
REPORTS = 50
VERSIONS = 10
WRITE_SECONDS = 0.08
"""One write-back at the slow node: a batch of a few hundred events keeps it busy for
tens of seconds (one call at a time)."""
HANDOVER_SECONDS = 12.0
"""The group's rebalance and the locks' move, with room for a loaded machine; far below
what writing back the batch in hand would take."""


@dataclass(slots=True)
class SlowNode(RecordingSink):
    """The node's system answering each write-back after ``WRITE_SECONDS``; both workers'
    sinks write into it (one ``received``), as two hub processes write to one node."""

    async def apply(self, event: ReportEvent) -> None:
        await asyncio.sleep(WRITE_SECONDS)
        await RecordingSink.apply(self, event)


def _history(report: str, version: int) -> ReportEvent:
    return ReportEvent(
        event_id=str(uuid.uuid4()), report_id=report, version=version, verb=Verb.FOLLOW_UP,
        previous_state=ReportState.DISPOSED, state=ReportState.DISPOSED,
        kind=ReportKind.COMPLAINT, region_code="16.71", origin_node="16.71",
        institution_codes=("pemda-16.71",), involved_nodes=("16.71", NODE),
        external_refs=(), occurred_at=datetime.now(UTC),
        actor_node="16.71", actor_role=ActorRole.INSTITUTION_ADMIN,
    )  # fmt: skip


class Worker:
    """One worker process's dispatcher serving the node (a group of one node set)."""

    def __init__(self, bus: KafkaBus, db: Database, received: list[ReportEvent]) -> None:
        self.node = SlowNode(NODE, received=received)
        self.sink = SinkWorker(self.node, bus, db, concurrency=1)
        self.dispatcher = Dispatcher(bus, db, [self.sink], lock_every=0.5)
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(self.dispatcher.run(self.stop))

    def applied(self) -> int:
        return self.sink.stats.applied


async def test_a_worker_hands_its_partitions_over_without_finishing_a_long_batch(
    db: Database, kafka_bootstrap: str, topic_prefix: str
) -> None:
    bus = KafkaBus(kafka_bootstrap, Topics(prefix=topic_prefix, partitions=3))
    await bus.start()
    node: list[ReportEvent] = []  # what the node's system holds, in the order it came
    reports = [str(uuid.uuid4()) for _ in range(REPORTS)]
    events = [_history(r, v) for r in reports for v in range(1, VERSIONS + 1)]
    # A backlog: every report's history waits in the topic before anyone serves the node.
    await bus.producer.publish(bus.topics.events, [encode(e) for e in events])
    first = Worker(bus, db, node)
    second: Worker | None = None
    try:
        await wait_until(lambda: first.applied() >= 20, what="the first worker at work")
        loop = asyncio.get_running_loop()
        joined = loop.time()
        second = joining = Worker(bus, db, node)  # the group moves partitions to it
        await wait_until(
            lambda: joining.applied() > 0,
            within=HANDOVER_SECONDS,
            what="the joining worker to write back (the first to hand partitions over)",
        )
        handed_over = loop.time() - joined
        # Both go on: the first with the partitions it kept.
        kept = first.applied()
        await wait_until(lambda: first.applied() > kept, what="the first worker going on")
        # The second stops under its own backlog: its partitions come back to the first
        # just as fast.
        await wait_until(lambda: joining.applied() >= 20, what="the second worker at work")
        joining.stop.set()
        await asyncio.wait_for(joining.task, HANDOVER_SECONDS)
        await wait_until(
            lambda: len({e.event_id for e in node}) == len(events),
            within=len(events) * WRITE_SECONDS * 2,
            what="the node to hold every event",
        )
        await asyncio.sleep(1)  # a doubled write-back would come meanwhile
    finally:
        first.stop.set()
        if second is not None:
            second.stop.set()
        await asyncio.gather(first.task, *([second.task] if second else []))
        await bus.stop()
    counts = Counter(e.event_id for e in node)
    assert [i for i, n in counts.items() if n > 1] == [], "an event reached the node twice"
    assert set(counts) == {e.event_id for e in events}
    held: dict[str, list[int]] = {}
    for event in node:
        held.setdefault(event.report_id, []).append(event.version)
    assert all(v == list(range(1, VERSIONS + 1)) for v in held.values()), "out of order"
    print(f"\nhanded over in {handed_over:.1f} s")
