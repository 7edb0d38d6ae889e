"""A node's staff act on a report the hub has just created there: their change is not
overwritten, and the hub pulls it. Open311 needs two calls (the creation, then the
status note), and the staff may act between them; every other kind creates the report
in its state in one call, so the staff's change right after it is the last word. The
sandbox slips the staff's change in at a fixed point of the hub's calls, so the
interleaving happens every run."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace

import httpx
import pytest
from starlette.applications import Starlette

from connectors.config import NodeTable
from connectors.sandbox.sandbox import Sandbox
from hub.app import create_app
from hub.settings import Settings, SyncMode
from tests.fixtures.app import GraphQLClient, token_for
from tests.hub.operations import DISPOSE, VERIFY, submit

CITY = "16.71"
"""Palembang, an Open311 node."""
DECLINE = "not_councils_responsibility"
CHAIN = """
query Chain($id: ID!) {
  report(id: $id) { state institutionCode dispositions { toInstitutionCode declined } }
}
"""


@asynccontextmanager
async def _hub(settings: Settings, table: NodeTable, nodes: set[str]) -> AsyncIterator[Starlette]:
    """The hub serving ``nodes``, pulling each often."""
    served = table.only(nodes)
    for config in served:
        served = served.with_node(config.code, poll_interval=0.2)
    app = create_app(replace(settings, sync=SyncMode.MEMORY, connectors=True), node_table=served)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def open311_app(settings: Settings, table: NodeTable) -> AsyncIterator[Starlette]:
    """The hub serving the province, LAPOR! and Palembang's Open311 node, pulling often."""
    async with _hub(settings, table, {"16", "lapor", CITY}) as app:
        yield app


async def _eventually(check: Callable[[], Awaitable[bool]], what: str, within: float) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)


@pytest.mark.parametrize(
    "moment",
    [
        pytest.param("created", id="right-after-the-creation"),
        pytest.param("writing", id="as-the-status-note-arrives"),
    ],
)
async def test_a_decline_between_the_two_calls_of_a_creation_is_pulled(
    open311_app: Starlette, sandbox: Sandbox, moment: str
) -> None:
    db = open311_app.state.database
    pulling = ["16", "lapor", CITY]

    async def imported() -> bool:
        return len(await db.fetch("pulled_at_by_nodes", pulling)) == len(pulling)

    await _eventually(imported, "every node's first pull", within=180)
    sandbox.introduce_status(CITY, DECLINE)
    await sandbox.interleave(CITY, moment, DECLINE)

    transport = httpx.ASGITransport(app=open311_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as http:
        admin = GraphQLClient(
            http, await token_for(open311_app, "test-admin", "16", ["province:admin"])
        )
        r = await submit(admin, regionCode="16", title="Lampu jalan padam di Jalan Sudirman")
        rid, key = r["id"], uuid.uuid4().hex
        v = (await admin.data(VERIFY, id=rid, v=1, key=f"{key}-v"))["verifyReport"]["version"]
        await admin.data(DISPOSE, id=rid, v=v, key=f"{key}-d", to=f"opd-{CITY}-dinkes")

        async def declined() -> bool:
            state: str = (await admin.data(CHAIN, id=rid))["report"]["state"]
            return state == "VERIFIED"

        # Without the condition on the second call, the status note overwrites the
        # decline at the node, which then shows "open" for good: the hub never hears it.
        await _eventually(declined, f"the decline at {CITY} to reach the hub", within=60)
        shown = (await admin.data(CHAIN, id=rid))["report"]
        assert shown["institutionCode"] == "pemprov-16"
        assert [(d["toInstitutionCode"], d["declined"]) for d in shown["dispositions"]] == [
            (f"opd-{CITY}-dinkes", False),
            ("pemprov-16", True),
        ]

    held = [i for i, (hub_id, _) in (await sandbox.inventory(CITY)).items() if hub_id == rid]
    assert len(held) == 1
    assert await sandbox.status_of(CITY, held[0]) == DECLINE


@pytest.mark.parametrize(
    ("node", "region", "verified"),
    [
        pytest.param("16.01", "16.01", "Koordinasi", id="rest"),
        pytest.param("16.07", "16.07", "DIVERIFIKASI", id="graphql"),
        pytest.param("lapor", "16.71", "Terverifikasi", id="lapor"),
        pytest.param("16.12", "16.12", "20", id="postgres"),
    ],
)
async def test_a_change_the_staff_make_as_the_hub_creates_a_report_is_pulled(
    settings: Settings, table: NodeTable, sandbox: Sandbox, node: str, region: str, verified: str
) -> None:
    served = {node, "lapor"}
    async with _hub(settings, table, served) as app:
        db = app.state.database

        async def imported() -> bool:
            return len(await db.fetch("pulled_at_by_nodes", sorted(served))) == len(served)

        await _eventually(imported, "every node's first pull", within=180)
        # The node's staff verify the report in their own system the moment it exists.
        await sandbox.interleave(node, "created", verified)

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as http:
            admin = GraphQLClient(
                http, await token_for(app, "test-admin", "16", ["province:admin"])
            )
            rid = (await submit(admin, regionCode=region, title="Drainase tersumbat"))["id"]

            async def verified_by_the_node() -> bool:
                state: str = (await admin.data(CHAIN, id=rid))["report"]["state"]
                return state == "VERIFIED"

            # Without the creation carrying the state, the hub's second call writes the
            # report back to "submitted" at the node, and the hub never hears of it.
            await _eventually(verified_by_the_node, f"{node}'s verification", within=60)

    held = [i for i, (hub_id, _) in (await sandbox.inventory(node)).items() if hub_id == rid]
    assert len(held) == 1
    assert await sandbox.status_of(node, held[0]) == verified
