"""An Open311 node's staff act on a request the hub has just created there, between the
hub's two calls (the creation, then the status note): their change is not overwritten,
and the hub pulls it. The sandbox slips the staff's change in at a fixed point of the
hub's calls, so the interleaving happens every run."""

from __future__ import annotations

import asyncio
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


@pytest.fixture
async def open311_app(settings: Settings, table: NodeTable) -> AsyncIterator[Starlette]:
    """The hub serving the province, LAPOR! and Palembang's Open311 node, pulling often."""
    served = table.only({"16", "lapor", CITY})
    for config in served:
        served = served.with_node(config.code, poll_interval=0.2)
    app = create_app(replace(settings, sync=SyncMode.MEMORY, connectors=True), node_table=served)
    async with app.router.lifespan_context(app):
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
    sandbox.interleave(CITY, moment, DECLINE)

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
