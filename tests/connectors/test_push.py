"""Push nodes: nothing is pulled; events are forwarded as CloudEvents or recorded."""

from __future__ import annotations

from dataclasses import replace

from connectors.config import NodeTable
from connectors.protocol import Dependencies
from connectors.push import PushConnector
from connectors.sandbox.sandbox import Sandbox
from schema.lifecycle import ReportState
from schema.report import ActorRole
from tests.connectors.conftest import Connect, event_for, pull_all

NODE = "16.11"


async def test_nothing_is_pulled_and_nothing_is_read_live(connect: Connect) -> None:
    async with connect(NODE) as connector:
        assert await pull_all(connector) == []
        result = await connector.fetch(["A-1"])
    assert dict(result.records) == {}
    assert result.missing == {"A-1"}


async def test_events_are_forwarded_once_as_cloudevents_without_content(
    sandbox: Sandbox, connect: Connect
) -> None:
    event = event_for(None, None, ReportState.DISPOSED)
    async with connect(NODE) as connector:
        await connector.apply(event)
        await connector.apply(event)  # a redelivery
        # The node's own change, sent by its service account: not echoed back to it.
        own = event_for(None, None, ReportState.VERIFIED, actor=NODE, role=ActorRole.NODE_SYSTEM)
        await connector.apply(own)
        # The province's admins acting as node 16.11 (their home node): news to its system.
        by_admin = event_for(None, None, ReportState.VERIFIED, actor=NODE, version=3)
        await connector.apply(by_admin)
    received = sandbox.push.received[NODE]
    assert [c["id"] for c in received] == [event.event_id, by_admin.event_id]
    cloud = received[0]
    assert cloud["id"] == event.event_id
    assert cloud["type"] == "id.go.sp4n.report.verified.v1"  # the verb's event name
    assert cloud["subject"] == event.report_id
    assert cloud["data"] == event.data()
    assert not {"title", "content", "reporter"} & set(cloud["data"])


async def test_without_a_webhook_events_are_recorded_for_the_node(table: NodeTable) -> None:
    config = replace(table[NODE], url=None, credentials=None, options={"record_limit": 2})
    connector = PushConnector(config, Dependencies())
    await connector.start()
    events = [event_for(None, None, ReportState.DISPOSED, version=v) for v in (2, 3, 4)]
    for event in events:
        await connector.apply(event)
    await connector.stop()
    assert list(connector.recorded) == events[1:]  # bounded: the oldest drops out
