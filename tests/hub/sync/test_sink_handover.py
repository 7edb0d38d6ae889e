"""One node's sink run by two workers at once: they share the node's consumer group,
each partition applied by one of them, and when one joins or leaves, the partitions
move only after what the batch in hand settled was recorded (the rest is given up, for
the next owner), so no event reaches the node twice and none is lost."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from hub.domain.service import ReportService
from hub.store.database import Database
from hub.sync.bus import Topics
from hub.sync.kafka import KafkaBus
from hub.sync.relay import OutboxRelay
from hub.sync.sink import SinkWorker
from schema.events import ReportEvent
from tests.doubles import RecordingSink
from tests.hub.sync.conftest import wait_until
from tests.hub.sync.workload import drive

NODE = "lapor"  # involved in every report


@dataclass(slots=True)
class SlowNode(RecordingSink):
    """A node taking a few milliseconds per write, so a hand-over finds batches in flight."""

    async def apply(self, event: ReportEvent) -> None:
        await asyncio.sleep(0.003)
        await RecordingSink.apply(self, event)


@pytest.fixture
async def wide_db(database_url: str) -> AsyncIterator[Database]:
    """Eight connections: the workload writes 16 at a time while two sinks read."""
    database = Database(database_url, min_size=1, max_size=8)
    await database.open()
    try:
        yield database
    finally:
        await database.close()


class Member:
    """A worker process's sink of the node."""

    def __init__(self, bus: KafkaBus, db: Database) -> None:
        self.node = SlowNode(NODE)
        self.worker = SinkWorker(self.node, bus, db, batch_size=50)
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(self.worker.run(self.stop))

    async def end(self) -> None:
        self.stop.set()
        await self.task


async def test_two_workers_of_one_node_share_its_group_and_apply_each_event_once(
    wide_db: Database, kafka_bootstrap: str, topic_prefix: str
) -> None:
    db = wide_db
    bus = KafkaBus(kafka_bootstrap, Topics(prefix=topic_prefix, partitions=3))
    await bus.start()
    relay_stop = asyncio.Event()
    relay = asyncio.create_task(OutboxRelay(db, bus).run(relay_stop))
    try:
        service = ReportService(db)
        first = Member(bus, db)
        progress = [0]
        writing = asyncio.create_task(drive(service, 900, seed=11, progress=progress))
        await wait_until(lambda: progress[0] >= 300, what="a third of the changes")
        # Joins once the first is at work (on a loaded machine the first's join to the
        # group and the relay's first records may take longer than a third of the
        # changes): the group moves partitions to it.
        await wait_until(lambda: bool(first.node.received), what="the first worker at work")
        second = Member(bus, db)
        await wait_until(lambda: bool(second.node.received), what="the second worker at work")
        await wait_until(lambda: progress[0] >= 600, what="two thirds of the changes")
        await first.end()  # leaves: the second takes every partition
        await writing
        total: int = await db.pool.fetchval("SELECT count(*) FROM outbox")
        members = (first, second)
        await wait_until(
            lambda: len({e.event_id for m in members for e in m.node.received}) == total,
            within=90,
            what="the node to hold every event",
        )
        await second.end()
    finally:
        relay_stop.set()
        await relay
        await bus.stop()
    counts = Counter(e.event_id for m in members for e in m.node.received)
    assert [i for i, n in counts.items() if n > 1] == [], "an event reached the node twice"
    assert len(counts) == total
    # Both did part of the work: the group shared the node between them.
    assert first.node.received
    assert second.node.received
