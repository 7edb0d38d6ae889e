"""The dispatcher: one reader of the events topic per process for all its nodes.

A node that is down delays only itself: the dispatcher lets it go and it catches
up alone from its cursor once it is back, each event once. Two processes whose
node sets overlap never serve one node's partition at once. A node switching over
from its own consumer group starts where that group had committed."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from connectors.errors import NodeUnavailable
from hub.store.database import Database
from hub.sync.bus import Topics
from hub.sync.dispatch import APPLICATION_NAME, Dispatcher
from hub.sync.kafka import KafkaBus
from hub.sync.memory import MemoryBus
from hub.sync.sink import SinkWorker
from infra.kafka import KafkaBroker
from schema.envelope import encode
from schema.events import ReportEvent
from schema.lifecycle import ReportState, Verb
from schema.report import ActorRole, ReportKind
from tests.doubles import RecordingSink
from tests.hub.sync.conftest import wait_until

DOWN = "16.71"
UP = "lapor"


def _event(involved: tuple[str, ...] = (DOWN, UP)) -> ReportEvent:
    return ReportEvent(
        event_id=str(uuid.uuid4()), report_id=str(uuid.uuid4()), version=1, verb=Verb.VERIFY,
        previous_state=ReportState.SUBMITTED, state=ReportState.VERIFIED,
        kind=ReportKind.ASPIRATION, region_code=DOWN, origin_node=DOWN,
        institution_codes=(f"pemda-{DOWN}",), involved_nodes=involved,
        external_refs=(), occurred_at=datetime.now(UTC),
        actor_node=DOWN, actor_role=ActorRole.INSTITUTION_ADMIN,
    )  # fmt: skip


@dataclass(slots=True)
class SwitchedNode(RecordingSink):
    """A node whose system can be switched off: it answers HTTP 503 meanwhile."""

    down: bool = False

    async def apply(self, event: ReportEvent) -> None:
        if self.down:
            raise NodeUnavailable(self.node_code, "HTTP 503")
        await RecordingSink.apply(self, event)


def _once(node: RecordingSink, events: list[ReportEvent]) -> None:
    counts = Counter(e.event_id for e in node.received)
    assert [i for i, n in counts.items() if n > 1] == [], f"{node.node_code} got an event twice"
    assert set(counts) == {e.event_id for e in events}


async def test_a_node_that_is_down_delays_only_itself_and_catches_up_alone(
    db: Database, kafka_bootstrap: str, topic_prefix: str
) -> None:
    bus = KafkaBus(kafka_bootstrap, Topics(prefix=topic_prefix, partitions=3))
    await bus.start()
    down = SwitchedNode(DOWN, down=True)
    up = RecordingSink(UP)
    workers = [
        SinkWorker(down, bus, db, retry_later=0.1, batch_size=50),
        SinkWorker(up, bus, db, batch_size=50),
    ]
    dispatcher = Dispatcher(bus, db, workers, queue_limit=100)
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop))
    try:
        events = [_event() for _ in range(600)]
        for i in range(0, len(events), 100):
            await bus.producer.publish(bus.topics.events, [encode(e) for e in events[i : i + 100]])
        # The node that is up gets everything while the other is still down.
        await wait_until(lambda: len(up.received) == len(events), what="the up node's events")
        assert down.received == []
        assert dispatcher.nodes[DOWN].alone, "the down node was let go"
        assert dispatcher.nodes[DOWN].let_go >= 1
        assert workers[0].stats.lag > 0
        # Back up: it catches up alone, then rejoins the dispatcher.
        down.down = False
        await wait_until(lambda: len(down.received) == len(events), what="the catch-up")
        await wait_until(lambda: not dispatcher.nodes[DOWN].alone, what="the node to rejoin")
        later = [_event() for _ in range(50)]
        await bus.producer.publish(bus.topics.events, [encode(e) for e in later])
        await wait_until(
            lambda: len(down.received) == len(up.received) == len(events) + len(later),
            what="the later events at both nodes",
        )
        await wait_until(lambda: workers[0].stats.lag == 0, what="the down node's lag to settle")
    finally:
        stop.set()
        await task
        await bus.stop()
    _once(down, events + later)
    _once(up, events + later)
    # Its progress is durable: the cursors reached the end of every partition.
    ends = await bus.end_offsets(bus.topics.events)
    rows = await db.fetch("sink_cursors_of", bus.topics.events, [DOWN, UP])
    assert {(r["node_code"], r["partition"]): r["next_offset"] for r in rows} == {
        (node, p): end for node in (DOWN, UP) for p, end in ends.items()
    }


async def test_overlapping_processes_serve_a_node_once_and_take_over_from_each_other(
    db: Database, kafka_bootstrap: str, topic_prefix: str
) -> None:
    """Two workers, one with ``--nodes 16.71,lapor`` and one with ``--nodes lapor``:
    different groups, so both read every partition, and the node locks keep lapor's
    events to one of them; when the first stops, the second takes lapor over."""
    bus = KafkaBus(kafka_bootstrap, Topics(prefix=topic_prefix, partitions=3))
    await bus.start()
    first_lapor, other, second_lapor = RecordingSink(UP), RecordingSink(DOWN), RecordingSink(UP)
    first = Dispatcher(bus, db, [SinkWorker(first_lapor, bus, db), SinkWorker(other, bus, db)])
    second = Dispatcher(bus, db, [SinkWorker(second_lapor, bus, db)], lock_every=0.5)
    stops = asyncio.Event(), asyncio.Event()
    tasks = [asyncio.create_task(d.run(s)) for d, s in zip((first, second), stops, strict=True)]
    try:
        events = [_event() for _ in range(300)]
        await bus.producer.publish(bus.topics.events, [encode(e) for e in events])
        await wait_until(lambda: len(other.received) == len(events), what="16.71's events")
        await wait_until(
            lambda: len(first_lapor.received) + len(second_lapor.received) >= len(events),
            what="lapor's events",
        )
        stops[0].set()
        await tasks[0]
        later = [_event() for _ in range(100)]
        await bus.producer.publish(bus.topics.events, [encode(e) for e in later])
        await wait_until(
            lambda: (
                len(first_lapor.received) + len(second_lapor.received) >= len(events) + len(later)
            ),
            what="the second worker to take lapor over",
        )
        await asyncio.sleep(1)  # nothing more may come
    finally:
        for stop in stops:
            stop.set()
        await asyncio.gather(*tasks)
        await bus.stop()
    both = RecordingSink(UP, received=[*first_lapor.received, *second_lapor.received])
    _once(both, events + later)
    assert {e.event_id for e in later} <= {e.event_id for e in second_lapor.received}


async def test_a_node_switching_over_starts_where_its_own_group_had_committed(
    db: Database,
) -> None:
    bus = MemoryBus()
    await bus.start()
    before = [_event((UP,)) for _ in range(20)]
    await bus.producer.publish(bus.topics.events, [encode(e) for e in before])
    # The node's own consumer group had read and committed all of those.
    old = await bus.consumer(bus.topics.events, bus.topics.sink_group(UP), from_start=True)
    while await old.poll(0, 100):
        pass
    await old.commit()
    after = [_event((UP,)) for _ in range(5)]
    await bus.producer.publish(bus.topics.events, [encode(e) for e in after])
    node = RecordingSink(UP)
    stop = asyncio.Event()
    task = asyncio.create_task(Dispatcher(bus, db, [SinkWorker(node, bus, db)]).run(stop))
    try:
        await wait_until(lambda: len(node.received) >= len(after), what="the new events")
        await asyncio.sleep(0.5)
    finally:
        stop.set()
        await task
    _once(node, after)


async def test_a_dispatcher_stops_promptly_while_the_broker_is_down(
    db: Database, owned_kafka_broker: KafkaBroker, topic_prefix: str
) -> None:
    bus = KafkaBus(owned_kafka_broker.bootstrap_servers, Topics(prefix=topic_prefix, partitions=3))
    await bus.start()
    up = RecordingSink(UP)
    dispatcher = Dispatcher(bus, db, [SinkWorker(up, bus, db)])
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop))
    try:
        events = [_event((UP,)) for _ in range(30)]
        await bus.producer.publish(bus.topics.events, [encode(e) for e in events])
        await wait_until(lambda: len(up.received) == len(events), what="the events")
        await owned_kafka_broker.stop_async()
        # Long enough for its bookkeeping to try the broker (the group's offsets).
        await asyncio.sleep(3)
        stop.set()
        # Well inside the supervisor's grace: it ends of itself, never cut short.
        await asyncio.wait_for(asyncio.shield(task), 10)
    finally:
        stop.set()
        await owned_kafka_broker.restart_async()
        await task
        await bus.stop()
    _once(up, events)
    left = await db.fetchval("relay_live_count", APPLICATION_NAME)
    assert left == 0, "the dispatcher's lock connection outlived it"
