"""The ``reportEvents`` subscription over a real WebSocket, on a real uvicorn server.

The hub runs as it does in production (uvicorn, its lifespan, the Kafka bus),
and a ``websockets`` client speaks graphql-transport-ws to it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from hub.app import create_app
from hub.domain.commands import Actor, Dispose, FollowUp, Submit, Verify
from hub.domain.service import ReportService
from hub.settings import Settings
from hub.sync.supervisor import SyncSupervisor
from schema.report import ActorRole, Channel, ComplaintSubKind, PrivacyFlags, ReportKind
from tests.fixtures.app import token_for
from tests.hub.sync.conftest import wait_until

CANARY = "KANARI-7c3a"
LAHAT = Actor("16.04", ActorRole.INSTITUTION_ADMIN)
PALEMBANG = Actor("16.71", ActorRole.INSTITUTION_ADMIN)
PROVINCE = Actor("16", ActorRole.INSTITUTION_ADMIN)

EVENTS = """
subscription Events($region: String, $institution: String) {
  reportEvents(regionCode: $region, institutionCode: $institution) {
    eventId reportId version verb previousState state kind regionCode originNode
    institutionCodes occurredAt actorNode actorRole
  }
}
"""


@dataclass(frozen=True, slots=True)
class Served:
    """The hub under uvicorn: the app object and where it listens."""

    app: Starlette
    port: int

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    @property
    def sync(self) -> SyncSupervisor:
        sync: SyncSupervisor = self.app.state.sync
        return sync

    @property
    def service(self) -> ReportService:
        service: ReportService = self.app.state.service
        return service

    def subscribers(self) -> int:
        """Subscriptions the broadcaster feeds now; graphql-transport-ws does not
        acknowledge a subscribe, so the tests wait on this before publishing."""
        return self.sync.broadcaster.subscriber_count


@pytest.fixture
async def served(sync_settings: Settings) -> AsyncIterator[Served]:
    """``create_app(sync_settings)`` under uvicorn on a free loopback port."""
    app = create_app(sync_settings)
    # Port 0: the OS picks a free port when binding, so parallel runs never collide.
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on", log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        await wait_until(lambda: server.started or task.done(), what="uvicorn to start")
        if not server.started:
            error = task.exception() if not task.cancelled() else None
            raise AssertionError(f"uvicorn did not start: {error!r}")
        port = server.servers[0].sockets[0].getsockname()[1]
        yield Served(app, port)
    finally:
        server.should_exit = True
        await task


@dataclass(slots=True)
class GraphQLWebSocket:
    """One graphql-transport-ws connection; keeps every frame it received."""

    ws: ClientConnection
    frames: list[str] = field(default_factory=list)

    async def init(self, payload: dict[str, Any] | None = None) -> None:
        await self._send({"type": "connection_init", **({"payload": payload} if payload else {})})
        ack = await self._receive()
        assert ack["type"] == "connection_ack", ack

    async def subscribe(self, op_id: str, query: str = EVENTS, **variables: Any) -> None:
        await self._send(
            {"id": op_id, "type": "subscribe", "payload": {"query": query, "variables": variables}}
        )

    async def error(self, op_id: str, within: float = 30) -> list[dict[str, Any]]:
        """The errors that ended subscription ``op_id`` before it started."""
        frame = await asyncio.wait_for(self._receive(), within)
        assert frame["type"] == "error", frame
        assert frame["id"] == op_id, frame
        errors: list[dict[str, Any]] = frame["payload"]
        return errors

    async def next_event(self, op_id: str, within: float = 30) -> dict[str, Any]:
        """The next event of subscription ``op_id``; fails on anything but ``next``."""
        frame = await asyncio.wait_for(self._receive(), within)
        assert frame["type"] == "next", frame
        assert frame["id"] == op_id, frame
        assert "errors" not in frame["payload"], frame
        event: dict[str, Any] = frame["payload"]["data"]["reportEvents"]
        return event

    async def events_until(self, op_id: str, report_id: str, version: int) -> list[dict[str, Any]]:
        """Every event received up to and including ``report_id`` at ``version``."""
        events = []
        while True:
            event = await self.next_event(op_id)
            events.append(event)
            if event["reportId"] == report_id and event["version"] == version:
                return events

    async def complete(self, op_id: str) -> None:
        await self._send({"id": op_id, "type": "complete"})

    async def _send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def _receive(self) -> dict[str, Any]:
        raw = await self.ws.recv()
        text = raw if isinstance(raw, str) else raw.decode()
        self.frames.append(text)
        message: dict[str, Any] = json.loads(text)
        return message


@pytest.fixture
async def client(served: Served) -> AsyncIterator[GraphQLWebSocket]:
    """A connected, acknowledged graphql-transport-ws client; closed before the server stops."""
    async with connect(served.ws_url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        assert ws.subprotocol == "graphql-transport-ws"
        client = GraphQLWebSocket(ws)
        await client.init()
        yield client


@pytest.fixture
async def second_client(served: Served) -> AsyncIterator[GraphQLWebSocket]:
    async with connect(served.ws_url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        client = GraphQLWebSocket(ws)
        await client.init()
        yield client


def _submit(region: str, title: str) -> Submit:
    return Submit(
        kind=ReportKind.COMPLAINT,
        complaint_sub_kind=ComplaintSubKind.NON_SUPERVISORY,
        title=title,
        content=f"Isi {CANARY}.",
        region_code=region,
        topic_id=301,
        channel=Channel.MOBILE_APP,
        location=f"Pasar {CANARY}",
    )


async def test_a_region_subscriber_gets_its_region_in_order_and_nothing_else(
    served: Served, client: GraphQLWebSocket, second_client: GraphQLWebSocket
) -> None:
    lahat, palembang = client, second_client
    await lahat.subscribe("lahat", region="16.04")
    await palembang.subscribe("palembang", region="16.71")
    await wait_until(lambda: served.subscribers() == 2, what="both subscriptions")

    service = served.service
    mine = await service.execute(_submit("16.04", f"Jalan {CANARY}"), LAHAT)
    await service.execute(Verify(mine.id), LAHAT, expected_version=1)
    in_lahat = str(mine.id)
    other = await service.execute(_submit("16.71", f"Banjir {CANARY}"), PALEMBANG)
    await service.execute(Verify(other.id), PALEMBANG, expected_version=1)

    # The 16.71 subscriber proves those events were broadcast at all ...
    theirs = await palembang.events_until("palembang", str(other.id), 2)
    assert {e["reportId"] for e in theirs} == {str(other.id)}
    assert [e["version"] for e in theirs] == [1, 2]
    # ... and once they were, a later 16.04 event marks the end of what the
    # 16.04 subscriber could have been sent before it (one queue, in order).
    marker = await service.execute(_submit("16.04", f"Penanda {CANARY}"), LAHAT)
    received = await lahat.events_until("lahat", str(marker.id), 1)

    assert str(other.id) not in {e["reportId"] for e in received}
    assert {e["regionCode"] for e in received} == {"16.04"}
    lahat_report = [e for e in received if e["reportId"] == in_lahat]
    assert [e["version"] for e in lahat_report] == [1, 2]
    assert [(e["verb"], e["previousState"], e["state"]) for e in lahat_report] == [
        ("SUBMIT", None, "SUBMITTED"),
        ("VERIFY", "SUBMITTED", "VERIFIED"),
    ]
    assert {(e["originNode"], e["actorNode"], e["actorRole"]) for e in lahat_report} == {
        ("16.04", "16.04", "INSTITUTION_ADMIN")
    }
    assert lahat_report[1]["kind"] == "COMPLAINT"
    # Events carry no content: neither the title, the body nor the location.
    assert all(CANARY not in frame for frame in lahat.frames + palembang.frames)

    await lahat.complete("lahat")
    await palembang.complete("palembang")
    await wait_until(lambda: served.subscribers() == 0, what="the subscriptions to end")


async def test_an_institution_subscriber_follows_a_report_from_its_disposition(
    served: Served, client: GraphQLWebSocket
) -> None:
    agency = "opd-16-pubmtr"
    await client.subscribe("agency", institution=agency)
    await wait_until(lambda: served.subscribers() == 1, what="the subscription")

    service = served.service
    r = await service.execute(_submit("16.04", f"Jembatan {CANARY}"), LAHAT)
    r = await service.execute(Verify(r.id), LAHAT, expected_version=1)
    r = await service.execute(Dispose(r.id, agency, CANARY), LAHAT, expected_version=2)
    r = await service.execute(FollowUp(r.id, f"Ditinjau {CANARY}"), PROVINCE, expected_version=3)

    events = await client.events_until("agency", str(r.id), 4)
    # Submission and verification happened before the agency was involved.
    assert [(e["version"], e["verb"], e["state"]) for e in events] == [
        (3, "DISPOSE", "DISPOSED"),
        (4, "FOLLOW_UP", "IN_FOLLOW_UP"),
    ]
    assert all(agency in e["institutionCodes"] for e in events)
    assert events[0]["institutionCodes"][-1] == agency
    assert all(CANARY not in frame for frame in client.frames)
    await client.complete("agency")


async def test_the_event_type_has_no_content_fields(client: GraphQLWebSocket) -> None:
    for name in ("title", "content", "reporter"):
        await client.subscribe(name, query=f"subscription {{ reportEvents {{ {name} }} }}")
        errors = await client.error(name)
        assert f"Cannot query field '{name}'" in errors[0]["message"], errors


async def test_the_public_does_not_learn_of_confidential_reports(
    served: Served, client: GraphQLWebSocket
) -> None:
    await client.subscribe("public", region="16.04")
    await wait_until(lambda: served.subscribers() == 1, what="the subscription")
    service = served.service
    secret = replace(_submit("16.04", "Rahasia"), privacy=PrivacyFlags(confidential=True))
    hidden = await service.execute(secret, LAHAT)
    marker = await service.execute(_submit("16.04", "Penanda"), LAHAT)
    received = await client.events_until("public", str(marker.id), 1)
    assert str(hidden.id) not in {e["reportId"] for e in received}
    await client.complete("public")


async def test_a_token_in_connection_init_authenticates_the_subscription(
    served: Served,
) -> None:
    """Browsers cannot set a WebSocket's headers; graphql-ws clients put the token in the
    connection_init payload, and the node then sees its own confidential reports."""
    token = await token_for(served.app, "lahat-read", "16.04", ["node:16.04:read"])
    async with connect(served.ws_url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        lahat = GraphQLWebSocket(ws)
        await lahat.init({"Authorization": f"Bearer {token}"})
        await lahat.subscribe("lahat", region="16.04")
        await wait_until(lambda: served.subscribers() == 1, what="the subscription")
        secret = replace(_submit("16.04", "Rahasia"), privacy=PrivacyFlags(confidential=True))
        hidden = await served.service.execute(secret, LAHAT)
        # Events of different reports may cross partitions in any order: wait for this one
        # itself (the public's test above shows the same subscription without a token
        # never gets it).
        received = await lahat.events_until("lahat", str(hidden.id), 1)
        assert received[-1]["state"] == "SUBMITTED"


@pytest.mark.parametrize("authorization", ["Bearer not-a-token", "Basic dXNlcjpwYXNz", 42])
async def test_a_bad_token_in_connection_init_closes_the_socket(
    served: Served, authorization: object
) -> None:
    """graphql-ws's answer to a refused connection_init: close with 4403 Forbidden."""
    async with connect(served.ws_url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": authorization}})
        )
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 30)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403
