"""A slow node still takes many changes a second: its sink writes back events of
different reports at once, up to the node's cap, and one report's events in order.
A node going down mid-batch or the hub stopping mid-batch still loses and doubles
nothing."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime

import pytest
from starlette.applications import Starlette

from connectors.errors import NodeUnavailable
from hub.store.database import Database
from hub.sync.bus import Message
from hub.sync.memory import MemoryBus
from hub.sync.sink import SinkWorker, TryLater
from schema.envelope import encode
from schema.events import ReportEvent
from schema.lifecycle import ReportState, Verb
from schema.report import ActorRole, ReportKind

NODE = "16.71"
STATES = [ReportState.SUBMITTED, ReportState.VERIFIED, ReportState.DISPOSED,
          ReportState.IN_FOLLOW_UP, ReportState.COMPLETED]  # fmt: skip


def _event(report_id: str, version: int) -> ReportEvent:
    return ReportEvent(
        event_id=str(uuid.uuid4()), report_id=report_id, version=version, verb=Verb.VERIFY,
        previous_state=None, state=STATES[version - 1], kind=ReportKind.ASPIRATION,
        region_code=NODE, origin_node=NODE, institution_codes=(f"pemda-{NODE}",),
        involved_nodes=(NODE, "lapor"),
        external_refs=(), occurred_at=datetime.now(UTC), actor_node="16",
        actor_role=ActorRole.INSTITUTION_ADMIN,
    )  # fmt: skip


def _stream(reports: int, versions: int) -> list[ReportEvent]:
    """Each report's history, interleaved as a partition would carry them."""
    ids = [str(uuid.uuid4()) for _ in range(reports)]
    return [_event(rid, v) for v in range(1, versions + 1) for rid in ids]


def _messages(events: list[ReportEvent], first_offset: int = 0) -> list[Message]:
    found = []
    for offset, event in enumerate(events, start=first_offset):
        envelope = encode(event)
        found.append(Message("t", 0, offset, envelope.key, envelope.value, envelope.headers))
    return found


class SlowNode:
    """A node whose API takes a few milliseconds a call (more or less at random, so
    calls overtake one another); it records each effect the moment it takes it."""

    node_code = NODE

    def __init__(self, seed: int = 7) -> None:
        self.effects: list[tuple[str, int, str]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.down_after: int | None = None
        self.took_ten = asyncio.Event()
        self._rng = random.Random(seed)

    async def apply(self, event: ReportEvent) -> None:
        if self.down_after is not None and len(self.effects) >= self.down_after:
            await asyncio.sleep(0.002)
            raise NodeUnavailable(NODE, "HTTP 503")
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            self.effects.append((event.report_id, event.version, event.event_id))
            if len(self.effects) >= 10:
                self.took_ten.set()
            # The answer comes later: an interrupted call may have taken effect.
            await asyncio.sleep(self._rng.uniform(0.001, 0.01))
        finally:
            self.in_flight -= 1

    async def reconcile(self, event: ReportEvent) -> bool:
        if any(e[2] == event.event_id for e in self.effects):
            return True
        await self.apply(event)
        return False

    def versions_by_report(self) -> dict[str, list[int]]:
        found: dict[str, list[int]] = {}
        for report_id, version, _ in self.effects:
            found.setdefault(report_id, []).append(version)
        return found

    def applied_twice(self) -> list[str]:
        ids = [e[2] for e in self.effects]
        return [i for i in set(ids) if ids.count(i) > 1]


def _every_report_complete_and_in_order(node: SlowNode, events: list[ReportEvent]) -> None:
    assert node.applied_twice() == []
    expected: dict[str, list[int]] = {}
    for event in events:
        expected.setdefault(event.report_id, []).append(event.version)
    assert node.versions_by_report() == expected


async def test_a_slow_node_gets_different_reports_at_once_and_each_report_in_order(
    app: Starlette,
) -> None:
    db: Database = app.state.database
    node = SlowNode()
    worker = SinkWorker(node, MemoryBus(), db, concurrency=4)
    events = _stream(reports=40, versions=5)
    for start in range(0, len(events), 100):
        await worker.handle(_messages(events[start : start + 100], start))

    assert 1 < node.max_in_flight <= 4
    _every_report_complete_and_in_order(node, events)
    assert worker.stats.applied == 200


async def test_a_sink_never_has_more_calls_out_than_its_cap(app: Starlette) -> None:
    db: Database = app.state.database
    node = SlowNode()
    worker = SinkWorker(node, MemoryBus(), db, concurrency=2)
    events = _stream(reports=30, versions=2)
    await worker.handle(_messages(events))
    assert node.max_in_flight == 2
    _every_report_complete_and_in_order(node, events)


async def test_a_node_going_down_mid_batch_keeps_the_rest_for_later_and_doubles_nothing(
    app: Starlette,
) -> None:
    db: Database = app.state.database
    node = SlowNode()
    node.down_after = 37
    bus = MemoryBus()
    await bus.start()
    worker = SinkWorker(node, bus, db, concurrency=4)
    events = _stream(reports=20, versions=4)
    messages = _messages(events)
    with pytest.raises(TryLater):
        await worker.handle(messages)
    assert 37 <= len(node.effects) < len(events)
    assert worker.stats.dead_lettered == 0
    # What the node took is recorded as applied; nothing else is.
    rows = await db.pool.fetch(
        "SELECT event_id FROM sink_inbox WHERE node_code = $1 AND event_id = ANY($2::uuid[])",
        NODE,
        [uuid.UUID(e.event_id) for e in events],
    )
    assert {str(r["event_id"]) for r in rows} == {e[2] for e in node.effects}

    node.down_after = None  # the node is back; the kept batch comes again
    await worker.handle(messages)
    _every_report_complete_and_in_order(node, events)
    assert sum(len(p) for p in bus.log(bus.topics.dead_letters).partitions) == 0


async def test_a_hub_stopped_with_calls_in_flight_reconciles_them_instead_of_resending(
    app: Starlette,
) -> None:
    db: Database = app.state.database
    node = SlowNode()
    events = _stream(reports=12, versions=3)
    messages = _messages(events)
    first = SinkWorker(node, MemoryBus(), db, concurrency=4)
    handling = asyncio.create_task(first.handle(messages))
    await node.took_ten.wait()
    handling.cancel()  # the process dies with calls out: their answers are lost
    with pytest.raises(asyncio.CancelledError):
        await handling

    second = SinkWorker(node, MemoryBus(), db, concurrency=4)
    await second.handle(messages)
    _every_report_complete_and_in_order(node, events)
    assert second.stats.held >= 10
