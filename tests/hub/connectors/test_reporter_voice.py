"""The reporter answers a follow-up and rates the handling in a node's own app (LAPOR!,
a regency's REST CRM, a regency's GraphQL system, a city's Open311 system, a regency's
database-only system): the hub pulls both and records them as its own reply and
rating, once, however often the node shows them again."""

from __future__ import annotations

import functools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace

import httpx
import pytest
from starlette.applications import Starlette

from connectors.config import NodeTable
from connectors.sandbox.sandbox import Sandbox
from hub.app import create_app
from hub.settings import Settings, SyncMode
from schema.lifecycle import ReportState
from tests.fixtures.app import GraphQLClient, token_for
from tests.hub.connectors.journeys import eventually, first_pulls_in, held_at, shows_label
from tests.hub.operations import COMPLETE, DISPOSE, FOLLOW_UP, VERIFY, submit

NODES = {"lapor": "16", "16.01": "16.01", "16.07": "16.07", "16.71": "16.71", "16.12": "16.12"}
"""The node whose app the reporter uses -> the region the report is filed for."""
VOICE = """
query Voice($id: ID!) {
  report(id: $id) {
    state version
    replies { content actorNode }
    rating { score comment }
    history { verb actorNode }
  }
}
"""


@pytest.fixture
async def voice_app(settings: Settings, table: NodeTable, node: str) -> AsyncIterator[Starlette]:
    """The hub serving the province and the node whose app the reporter uses."""
    served = table.only({"16", node})
    for config in served:
        served = served.with_node(config.code, poll_interval=0.2)
    app = create_app(replace(settings, sync=SyncMode.MEMORY, connectors=True), node_table=served)
    async with app.router.lifespan_context(app):
        yield app


async def _voice(
    admin: GraphQLClient,
    sandbox: Sandbox,
    table: NodeTable,
    node: str,
    admin_watermark: Callable[[str], Awaitable[str | None]],
) -> None:
    region = NODES[node]
    r = await submit(admin, regionCode=region, title=f"Air PDAM keruh ({node})")
    rid, key = r["id"], uuid.uuid4().hex

    async def move(operation: str, field: str, v: int, **extra: object) -> int:
        data = await admin.data(operation, id=rid, v=v, key=f"{key}-{field}-{v}", **extra)
        version: int = data[field]["version"]
        return version

    async def shown() -> dict[str, object]:
        report: dict[str, object] = (await admin.data(VOICE, id=rid))["report"]
        return report

    v = await move(VERIFY, "verifyReport", 1)
    v = await move(DISPOSE, "disposeReport", v, to="opd-16-dinkes")
    v = await move(FOLLOW_UP, "addFollowUp", v, content="Pipa sudah diganti petugas.")
    await eventually(
        functools.partial(shows_label, sandbox, table, node, rid, ReportState.IN_FOLLOW_UP),
        f"{node} to show the follow-up",
    )
    held = await held_at(sandbox, node, rid)
    assert held is not None

    # The reporter answers in the node's app: the hub records the reply as the node's,
    # the report stays in follow-up, and the answer names nobody.
    await sandbox.reply(node, held, "Air masih keruh di rumah saya.")

    async def replied() -> bool:
        return bool((await shown())["replies"])

    await eventually(replied, f"the reply at {node} to reach the hub")
    after = await shown()
    assert after["replies"] == [{"content": "Air masih keruh di rumah saya.", "actorNode": node}]
    assert after["state"] == "IN_FOLLOW_UP"
    history = after["history"]
    assert isinstance(history, list)
    assert history[-1] == {"verb": "REPLY", "actorNode": node}
    replied_at = after["version"]
    assert isinstance(replied_at, int)

    v = await move(FOLLOW_UP, "addFollowUp", replied_at, content="Filter air sudah dibersihkan.")
    await move(COMPLETE, "completeReport", v)
    await eventually(
        functools.partial(shows_label, sandbox, table, node, rid, ReportState.COMPLETED),
        f"{node} to show the report completed",
    )

    # Rated in the node's app: the node shows the report again, its reply still listed.
    await sandbox.rate(node, held, 4, "Cepat ditangani")

    async def rated() -> bool:
        return (await shown())["rating"] is not None

    await eventually(rated, f"the rating at {node} to reach the hub")
    final = await shown()
    assert final["rating"] == {"score": 4, "comment": "Cepat ditangani"}
    assert final["state"] == "COMPLETED"
    assert final["replies"] == after["replies"]  # the re-pulled reply is not recorded again

    # The node shows the report a third time (its staff add a note): still one reply,
    # one rating, and nothing else written.
    await sandbox.set_status(node, held, str(await sandbox.status_of(node, held)))
    before = await admin_watermark(node)

    async def pulled_again() -> bool:
        return await admin_watermark(node) != before

    await eventually(pulled_again, f"the hub to pull {node} again")
    again = await shown()
    assert again["replies"] == after["replies"]
    assert again["version"] == final["version"]


@pytest.mark.parametrize("node", list(NODES))
async def test_replies_and_ratings_given_in_a_nodes_app_reach_the_hub_once(
    voice_app: Starlette, sandbox: Sandbox, table: NodeTable, node: str
) -> None:
    pulling = list({"16", node})
    await first_pulls_in(voice_app, pulling)
    transport = httpx.ASGITransport(app=voice_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as http:
        admin = GraphQLClient(
            http, await token_for(voice_app, "test-admin", "16", ["province:admin"])
        )

        async def watermark(node: str) -> str | None:
            found: str | None = await voice_app.state.database.fetchval("watermark_of", node)
            return found

        await _voice(admin, sandbox, table, node, watermark)


async def test_a_first_pull_records_the_replies_and_ratings_its_reports_carry(
    settings: Settings, table: NodeTable, sandbox: Sandbox
) -> None:
    # Before the hub ever pulls the regency's CRM, a reporter answered a follow-up there
    # and another rated a finished report: the first pull imports both reports set-wise
    # and records the reply and the rating with them, as a later pull would.
    node = "16.01"
    system = sandbox.systems[node]
    following = next(r.id for r in system.by_seq() if r.status == "Proses")
    done = next(r.id for r in system.by_seq() if r.status == "Selesai")
    await sandbox.reply(node, following, "Belum ada perbaikan sampai hari ini.")
    await sandbox.rate(node, done, 5, "Terima kasih, sudah beres")

    served = table.only({node}).with_node(node, poll_interval=0.2)
    app = create_app(replace(settings, sync=SyncMode.MEMORY, connectors=True), node_table=served)
    async with app.router.lifespan_context(app):
        await first_pulls_in(app, [node])
        db = app.state.database
        ids = {}
        for external_id in (following, done):
            row = await db.fetchrow("report_by_ref", node, external_id)
            assert row is not None, f"{node} report {external_id} was not imported"
            ids[external_id] = str(row["id"])
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as http:
            admin = GraphQLClient(
                http, await token_for(app, "test-admin", "16", ["province:admin"])
            )
            answered = (await admin.data(VOICE, id=ids[following]))["report"]
            rated = (await admin.data(VOICE, id=ids[done]))["report"]

    assert answered["state"] == "IN_FOLLOW_UP"
    assert answered["replies"] == [
        {"content": "Belum ada perbaikan sampai hari ini.", "actorNode": node}
    ]
    assert answered["history"][-1] == {"verb": "REPLY", "actorNode": node}
    assert rated["state"] == "COMPLETED"
    assert rated["rating"] == {"score": 5, "comment": "Terima kasih, sudah beres"}
    assert rated["replies"] == []
