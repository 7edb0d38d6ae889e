"""A node that is down keeps its events: a retryable connector error is never dead-lettered."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from connectors.errors import NodeRejected, NodeUnavailable
from hub.store.database import Database
from hub.sync.bus import BusError, Message
from hub.sync.memory import MemoryBus
from hub.sync.sink import SinkWorker, TryLater
from schema.envelope import encode
from schema.events import ReportEvent
from schema.lifecycle import ReportState, Verb
from schema.report import ActorRole, ReportKind

NODE = "16.71"


def _event(version: int, report_id: str) -> ReportEvent:
    return ReportEvent(
        event_id=str(uuid.uuid4()), report_id=report_id, version=version, verb=Verb.VERIFY,
        previous_state=ReportState.SUBMITTED, state=ReportState.VERIFIED,
        kind=ReportKind.ASPIRATION, region_code=NODE, origin_node=NODE,
        institution_codes=(f"pemda-{NODE}",), involved_nodes=(NODE, "lapor"),
        external_refs=(), occurred_at=datetime.now(UTC),
        actor_node="16", actor_role=ActorRole.INSTITUTION_ADMIN,
    )  # fmt: skip


class Flaky:
    """A node sink that fails ``failures`` times with ``error``, then accepts."""

    node_code = NODE

    def __init__(self, failures: int, error: Exception) -> None:
        self.failures = failures
        self.error = error
        self.applied: list[str] = []

    async def apply(self, event: ReportEvent) -> None:
        if self.failures:
            self.failures -= 1
            raise self.error
        self.applied.append(event.event_id)

    async def reconcile(self, event: ReportEvent) -> bool:
        if event.event_id in self.applied:
            return True
        await self.apply(event)
        return False


def _dead_letters(bus: MemoryBus) -> int:
    return sum(len(p) for p in bus.log(bus.topics.dead_letters).partitions)


async def test_a_node_that_is_down_delays_its_batch_and_loses_nothing(db: Database) -> None:
    bus = MemoryBus()
    await bus.start()
    sink = Flaky(2, NodeUnavailable(NODE, "HTTP 500"))
    worker = SinkWorker(sink, bus, db, retry_later=0.05)
    events = [_event(1, str(uuid.uuid4())), _event(1, str(uuid.uuid4()))]
    await bus.producer.publish(bus.topics.events, [encode(e) for e in events])
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    for _ in range(200):
        if len(sink.applied) == 2:
            break
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert sorted(sink.applied) == sorted(e.event_id for e in events)
    assert _dead_letters(bus) == 0
    assert worker.stats.dead_lettered == 0


async def test_the_batch_is_not_settled_while_the_node_is_down(db: Database) -> None:
    bus = MemoryBus()
    await bus.start()
    worker = SinkWorker(Flaky(1, NodeUnavailable(NODE, "down")), bus, db)
    envelope = encode(_event(1, str(uuid.uuid4())))
    message = Message("t", 0, 0, envelope.key, envelope.value, envelope.headers)
    with pytest.raises(TryLater):
        await worker.handle([message])
    assert _dead_letters(bus) == 0


async def test_a_refusal_is_still_dead_lettered(db: Database) -> None:
    bus = MemoryBus()
    await bus.start()
    worker = SinkWorker(Flaky(1, NodeRejected(NODE, "HTTP 422")), bus, db)
    envelope = encode(_event(1, str(uuid.uuid4())))
    await worker.handle([Message("t", 0, 0, envelope.key, envelope.value, envelope.headers)])
    assert _dead_letters(bus) == 1


class LooksRetryable(RuntimeError):
    """Not a connector's error, though it carries a ``retryable`` flag."""

    retryable = True


async def test_only_a_retryable_connector_error_keeps_the_batch(db: Database) -> None:
    """The seam's contract is ``ConnectorError.retryable``, checked by type: any other
    error is the node's refusal, whatever attributes it has, and a node that is down
    is not a broker outage."""
    assert not issubclass(TryLater, BusError)
    bus = MemoryBus()
    await bus.start()
    worker = SinkWorker(Flaky(1, LooksRetryable("odd")), bus, db)
    envelope = encode(_event(1, str(uuid.uuid4())))
    await worker.handle([Message("t", 0, 0, envelope.key, envelope.value, envelope.headers)])
    assert _dead_letters(bus) == 1
    assert worker.stats.dead_lettered == 1
