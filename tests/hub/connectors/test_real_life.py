"""A report travels as it does in real life, once per connector kind: filed with the
province, forwarded to a regency's own dinas, declined there as not its competence
(Bukan Wewenang), forwarded again, followed up, answered by the reporter, followed up
again, completed and rated. Every node involved ends with the right state in its own
system's vocabulary."""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import AsyncIterator
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
from tests.hub.operations import COMPLETE, DECLINE, DISPOSE, FOLLOW_UP, VERIFY, submit

REGENCIES = {
    "16.01": "rest",
    "16.07": "graphql",
    "16.71": "open311",
    "16.11": "push",
    "16.12": "postgres",
}
"""One regency per connector kind; LAPOR! (kind lapor) is involved in every report."""
DECLINE_LABELS = {"open311": "not_councils_responsibility"}
"""How a system says "not our competence" where its word for VERIFIED would not do:
Open311's "open" is every state up to completion (FixMyStreet's extended status)."""

REPLY = """
mutation Reply($id: ID!, $v: Int!, $key: String!, $content: String!) {
  replyToFollowUp(id: $id, expectedVersion: $v, idempotencyKey: $key, content: $content) {
    version state
  }
}
"""
RATE = """
mutation Rate($id: ID!, $score: Int!) { rateReport(id: $id, score: $score) { score } }
"""
CHAIN = """
query Chain($id: ID!) {
  report(id: $id) {
    state version institutionCode
    dispositions { fromInstitutionCode toInstitutionCode declined }
    rating { score }
  }
}
"""


@pytest.fixture
async def federation_app(settings: Settings, table: NodeTable) -> AsyncIterator[Starlette]:
    """The hub serving the province, LAPOR! and one regency of each kind, pulling often."""
    served = table.only({"16", "lapor", *REGENCIES})
    for config in served:
        served = served.with_node(config.code, poll_interval=0.2)
    app = create_app(replace(settings, sync=SyncMode.MEMORY, connectors=True), node_table=served)
    async with app.router.lifespan_context(app):
        yield app


async def _shows(
    sandbox: Sandbox, table: NodeTable, node: str, report_id: str, state: ReportState
) -> bool:
    """Whether the node's system shows the report in ``state``, in its own words: a push
    node keeps the events it was sent (canonical, in arrival order), the others a label."""
    if REGENCIES.get(node) == "push":
        states = []
        for event in sandbox.push.received[node]:
            data = event["data"]
            assert isinstance(data, dict)
            if data["reportId"] == report_id:
                states.append(data["state"])
        return bool(states) and states[-1] == state.value
    return await shows_label(sandbox, table, node, report_id, state)


async def _journey(
    app: Starlette,
    http: httpx.AsyncClient,
    admin: GraphQLClient,
    sandbox: Sandbox,
    table: NodeTable,
    regency: str,
) -> None:
    dinas = f"opd-{regency}-dinkes"
    r = await submit(admin, regionCode="16", title=f"Puskesmas tutup ({REGENCIES[regency]})")
    rid, key = r["id"], uuid.uuid4().hex

    async def move(operation: str, field: str, v: int, **extra: object) -> int:
        data = await admin.data(operation, id=rid, v=v, key=f"{key}-{field}-{v}", **extra)
        version: int = data[field]["version"]
        return version

    v = await move(VERIFY, "verifyReport", 1)
    v = await move(DISPOSE, "disposeReport", v, to=dinas)

    # The regency's own system is handed the report, in its own words, and the hub has
    # recorded the write-back done. (A decline that lands between the creation and the
    # state write is pulled for Open311, test_write_back_race; the other kinds create
    # the report in its state in one call.)
    async def handed() -> bool:
        written = await app.state.database.pool.fetchval(
            "SELECT EXISTS (SELECT 1 FROM sink_inbox WHERE node_code = $1 AND report_id = $2 "
            "AND version = $3 AND outcome = 'APPLIED')",
            regency, uuid.UUID(rid), v,
        )  # fmt: skip
        return bool(written) and await _shows(sandbox, table, regency, rid, ReportState.DISPOSED)

    await eventually(handed, f"{regency} to hold the report as disposed")

    # Its dinas declines it as not its competence, in the regency's own system: the hub
    # pulls that through the connector (a push-only system tells the hub by GraphQL),
    # and the report goes back to the province.
    if REGENCIES[regency] == "push":
        system = GraphQLClient(
            http, await token_for(app, f"system-{regency}", regency, [f"node:{regency}:write"])
        )
        reason = "Bukan wewenang dinas kabupaten"
        await system.data(DECLINE, id=rid, v=v, key=f"{key}-decline", reason=reason)
    else:
        held = await held_at(sandbox, regency, rid)
        assert held is not None
        label = DECLINE_LABELS.get(REGENCIES[regency]) or next(
            c.status for c in table if c.code == regency
        ).to_external(ReportState.VERIFIED)
        if regency not in sandbox.databases:
            sandbox.introduce_status(regency, label)
        await sandbox.set_status(regency, held, label)

    async def declined() -> bool:
        state: str = (await admin.data(CHAIN, id=rid))["report"]["state"]
        return state == "VERIFIED"

    await eventually(declined, f"the decline at {regency} to reach the hub")
    back = (await admin.data(CHAIN, id=rid))["report"]
    assert back["institutionCode"] == "pemprov-16"
    v = back["version"]

    v = await move(DISPOSE, "disposeReport", v, to="opd-16-dinkes")
    v = await move(FOLLOW_UP, "addFollowUp", v, content="Petugas dinas sudah turun ke lokasi.")
    # The reporter answers by phone; the province's SP4N-LAPOR! desk records it. (Through
    # LAPOR!'s own API the sandbox's LAPOR! would not show the reply in its own system,
    # and the hub would rightly take the stale status it still shows for LAPOR!'s news.)
    replied = await admin.data(
        REPLY, id=rid, v=v, key=f"{key}-reply", content="Puskesmas masih tutup hari ini."
    )
    assert replied["replyToFollowUp"]["state"] == "IN_FOLLOW_UP"
    v = replied["replyToFollowUp"]["version"]
    v = await move(FOLLOW_UP, "addFollowUp", v, content="Jadwal pelayanan sudah dipulihkan.")
    v = await move(COMPLETE, "completeReport", v)
    assert (await admin.data(RATE, id=rid, score=4))["rateReport"]["score"] == 4

    shown = (await admin.data(CHAIN, id=rid))["report"]
    assert shown["state"] == "COMPLETED"
    assert shown["institutionCode"] == "opd-16-dinkes"
    assert [(d["toInstitutionCode"], d["declined"]) for d in shown["dispositions"]] == [
        (dinas, False),
        ("pemprov-16", True),
        ("opd-16-dinkes", False),
    ]
    assert shown["rating"] == {"score": 4}

    # Every node that was involved ends at COMPLETED, in its own vocabulary: the
    # regency (its dinas declined, yet it stays involved and hears the end), LAPOR!.
    for node in (regency, "lapor"):
        await eventually(
            functools.partial(_shows, sandbox, table, node, rid, ReportState.COMPLETED),
            f"{node} to show the {regency} journey's report completed",
        )


async def test_a_report_travels_as_in_real_life_through_every_connector_kind(
    federation_app: Starlette, sandbox: Sandbox, table: NodeTable
) -> None:
    # Each pulling node's first pull imports its whole system (over a thousand reports);
    # the journeys start once those are in, so each step waits only for a routine poll.
    pulling = [c for c in REGENCIES if REGENCIES[c] != "push"] + ["16", "lapor"]
    await first_pulls_in(federation_app, pulling)
    transport = httpx.ASGITransport(app=federation_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as http:
        admin = GraphQLClient(
            http, await token_for(federation_app, "test-admin", "16", ["province:admin"])
        )
        await asyncio.gather(
            *(_journey(federation_app, http, admin, sandbox, table, r) for r in REGENCIES)
        )
