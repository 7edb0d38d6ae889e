"""A sink that dies between calling the node and recording the outcome does not apply
the event twice when it comes again: the intent it noted first makes the redelivery
reconcile with the node (link what it created, skip what it shows) instead of
creating a second report, a second follow-up or a second state entry there.

Deterministic: the crash is a wrapper around the real connector that dies right
after (or right before) the node call. The sandbox systems honour no idempotency
keys here (the database nodes' keys are their own constraints), so only the hub's
intents stand between a crash and a duplicate.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import pytest

from connectors.protocol import Connector, Dependencies
from connectors.registry import default_registry
from connectors.sandbox.sandbox import Sandbox
from hub.domain.commands import Actor, Command, Dispose, FollowUp, Submit, Verify
from hub.ingest.pull import HubDirectory
from hub.store.database import Database
from hub.sync.bus import Message
from hub.sync.memory import MemoryBus
from hub.sync.sink import HandedOver, Sink, SinkWorker
from schema.envelope import encode
from schema.events import ReportEvent, parse_event
from schema.report import ActorRole, Channel, ComplaintSubKind, ReportKind
from tests.connectors.conftest import KIND_NODES
from tests.hub.connectors.conftest import Hub

PROVINCE = Actor("16", ActorRole.INSTITUTION_ADMIN, everywhere=True)


class Crash(BaseException):
    """The hub process dying: the sink's ``except Exception`` does not stop it."""


class CrashingSink:
    """The node's connector, dying once around its ``at``-th apply (``after`` the call
    returned, or before making it)."""

    def __init__(self, inner: Connector, at: int, *, after: bool = True) -> None:
        self.inner = inner
        self.node_code = inner.node_code
        self.at = at
        self.after = after
        self.calls = 0

    async def apply(self, event: ReportEvent) -> None:
        self.calls += 1
        if self.calls == self.at and not self.after:
            raise Crash
        await self.inner.apply(event)
        if self.calls == self.at:
            raise Crash

    async def reconcile(self, event: ReportEvent) -> bool:
        return await self.inner.reconcile(event)


class HandedOverSink:
    """The node's connector, behind a worker whose partitions are handed over (the
    group moves them) right after its first reconciliation with the node."""

    def __init__(self, inner: Connector) -> None:
        self.inner = inner
        self.node_code = inner.node_code
        self.worker: SinkWorker | None = None
        self.reconciled = 0

    async def apply(self, event: ReportEvent) -> None:
        await self.inner.apply(event)

    async def reconcile(self, event: ReportEvent) -> bool:
        held = await self.inner.reconcile(event)
        self.reconciled += 1
        assert self.worker is not None
        self.worker._handing_over.set()
        return held


class CrashingDirectory(HubDirectory):
    """The hub's directory, dying at its first link: the node has created the report,
    the hub has not recorded the node's id for it."""

    async def link(self, report_id: str, node_code: str, external_id: str) -> None:
        raise Crash


@pytest.fixture(params=sorted(KIND_NODES))
def node(request: pytest.FixtureRequest, sandbox: Sandbox) -> str:
    code: str = KIND_NODES[request.param]
    if code in sandbox.systems:
        sandbox.honour_keys(code, False)
    return code


async def _history(hub: Hub, region: str) -> tuple[str, list[Message]]:
    """A report the province files about ``region`` and moves on: verified, disposed,
    followed up twice (the state stays). Returns its id and its events as polled."""
    service = hub.service
    report = await service.execute(
        Submit(
            kind=ReportKind.COMPLAINT, complaint_sub_kind=ComplaintSubKind.NON_SUPERVISORY,
            title="Jembatan gantung miring", content="Tali penahan jembatan putus sebelah.",
            region_code=region, topic_id=301, channel=Channel.WEB,
        ),
        PROVINCE,
    )  # fmt: skip
    moves: list[Command] = [
        Verify(report.id),
        Dispose(report.id, "opd-16-pubmtr"),
        FollowUp(report.id, "Tim sudah meninjau lokasi."),
        FollowUp(report.id, "Perbaikan dijadwalkan pekan depan."),
    ]
    for version, command in enumerate(moves, start=1):
        report = await service.execute(command, PROVINCE, expected_version=version)
    rows = await hub.db.pool.fetch(
        "SELECT event_id, data FROM outbox WHERE report_id = $1 ORDER BY id", report.id
    )
    messages = []
    for offset, row in enumerate(rows):
        envelope = encode(parse_event(str(row["event_id"]), json.loads(row["data"])))
        messages.append(
            Message("events", 0, offset, envelope.key, envelope.value, envelope.headers)
        )
    return str(report.id), messages


def _worker(sink: Sink, db: Database) -> SinkWorker:
    return SinkWorker(sink, MemoryBus(), db)


async def _assert_once_each(
    sandbox: Sandbox, node: str, report_id: str, event_ids: Iterable[str]
) -> None:
    made = [e for e, (hub_id, _) in (await sandbox.inventory(node)).items() if hub_id == report_id]
    assert len(made) == 1, f"{node} holds {len(made)} reports for the hub's {report_id}"
    written = (await sandbox.writes(node))[made[0]]
    assert written == list(event_ids), "each event written exactly once, in order"


def _region(node: str) -> str:
    return "16.71" if node == "lapor" else node


@pytest.mark.parametrize("at", [1, 3, 4])
async def test_a_crash_after_the_node_call_does_not_apply_it_twice(
    hub: Hub, sandbox: Sandbox, node: str, at: int
) -> None:
    # at=1: the node created the report and wrote its state; 3, 4: a follow-up was posted.
    report_id, messages = await _history(hub, _region(node))
    crashing = CrashingSink(hub.federation[node], at)
    with pytest.raises(Crash):
        await _worker(crashing, hub.db).handle(messages)

    again = _worker(hub.federation[node], hub.db)  # the hub, restarted
    await again.handle(messages)
    await _assert_once_each(sandbox, node, report_id, [_event_id(m) for m in messages])
    assert (again.stats.in_doubt, again.stats.held) == (len(messages), at)
    assert await hub.db.pool.fetchval("SELECT count(*) FROM sink_intents") == 0


async def test_a_hand_over_while_reconciling_leaves_the_rest_in_doubt(
    hub: Hub, sandbox: Sandbox, node: str
) -> None:
    """A worker crashed with four events sent and none recorded; the next one, while
    reconciling them, hands the partition over after the first: the three it did not
    reach are still in doubt for the owner after it, which reconciles them instead of
    sending them again."""
    report_id, messages = await _history(hub, _region(node))
    with pytest.raises(Crash):
        await _worker(CrashingSink(hub.federation[node], 4), hub.db).handle(messages)
    handing_over = HandedOverSink(hub.federation[node])
    second = handing_over.worker = _worker(handing_over, hub.db)
    with pytest.raises(HandedOver):
        await second.handle(messages)
    assert handing_over.reconciled == 1
    third = _worker(hub.federation[node], hub.db)
    await third.handle(messages)
    await _assert_once_each(sandbox, node, report_id, [_event_id(m) for m in messages])
    assert third.stats.duplicates == 1  # the one the second settled
    assert third.stats.in_doubt == len(messages) - 1
    assert await hub.db.pool.fetchval("SELECT count(*) FROM sink_intents") == 0


async def test_a_crash_between_creating_and_linking_links_instead_of_creating_again(
    hub: Hub, sandbox: Sandbox, node: str
) -> None:
    report_id, messages = await _history(hub, _region(node))
    table = sandbox.node_table()
    dying = default_registry().create(
        table[node], Dependencies(directory=CrashingDirectory(hub.db))
    )
    await dying.start()
    try:
        with pytest.raises(Crash):
            await _worker(dying, hub.db).handle(messages)
    finally:
        await dying.stop()
    await _worker(hub.federation[node], hub.db).handle(messages)
    await _assert_once_each(sandbox, node, report_id, [_event_id(m) for m in messages])
    linked = await HubDirectory(hub.db).external_id(report_id, node)
    made = [e for e, (h, _) in (await sandbox.inventory(node)).items() if h == report_id]
    assert linked == made[0]


async def test_a_crash_before_the_node_call_loses_nothing(
    hub: Hub, sandbox: Sandbox, node: str
) -> None:
    report_id, messages = await _history(hub, _region(node))
    with pytest.raises(Crash):
        await _worker(CrashingSink(hub.federation[node], 3, after=False), hub.db).handle(messages)
    again = _worker(hub.federation[node], hub.db)
    await again.handle(messages)
    await _assert_once_each(sandbox, node, report_id, [_event_id(m) for m in messages])
    assert again.stats.held == 2  # the two applied before the crash; the third was not sent


async def test_a_settled_batch_leaves_no_intent_and_a_redelivery_is_a_duplicate(
    hub: Hub, sandbox: Sandbox, node: str
) -> None:
    report_id, messages = await _history(hub, _region(node))
    await _worker(hub.federation[node], hub.db).handle(messages)
    assert await hub.db.pool.fetchval("SELECT count(*) FROM sink_intents") == 0
    again = _worker(hub.federation[node], hub.db)
    await again.handle(messages)
    assert (again.stats.duplicates, again.stats.in_doubt) == (len(messages), 0)
    await _assert_once_each(sandbox, node, report_id, [_event_id(m) for m in messages])


def _event_id(message: Message) -> str:
    return dict(message.headers)["ce_id"].decode()
