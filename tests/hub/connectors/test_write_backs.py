"""Which changes the hub writes back to which node: the province hears its admins'
changes, a node never hears its own pulled change again, and SP4N-LAPOR! hears of
every report, confidential ones too (without the reporter's identity)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import httpx
from starlette.applications import Starlette

from connectors.protocol import Dependencies
from connectors.registry import default_registry
from connectors.sandbox.sandbox import Sandbox
from hub.ingest.pull import HubDirectory
from hub.sync.supervisor import SyncSupervisor
from schema.events import ExternalRef, ReportEvent
from schema.lifecycle import ReportState, Verb
from schema.report import ActorRole, ReportKind
from tests.fixtures.app import GraphQLClient, token_for
from tests.hub.operations import SUBMIT, VERIFY

PROVINCE = "16"  # a kabupaten-GraphQL vocabulary: BARU, DIVERIFIKASI, ...
REGENCY = "16.07"


async def _eventually(check: Callable[[], Awaitable[bool]], what: str, within: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


async def _fresh(sandbox: Sandbox, node: str, label: str) -> list[str]:
    return [eid for eid in sorted(await sandbox.inventory(node))
            if await sandbox.status_of(node, eid) == label]  # fmt: skip


async def test_a_province_admins_change_reaches_the_province_but_a_pulled_one_is_not_echoed(
    connected_app: Starlette, admin_gql: GraphQLClient, sandbox: Sandbox
) -> None:
    db = connected_app.state.database
    sync: SyncSupervisor = connected_app.state.sync
    province = sandbox.systems[PROVINCE]
    by_admin, by_staff = (await _fresh(sandbox, PROVINCE, "BARU"))[:2]

    async def indexed() -> bool:
        return all([await db.fetchrow("report_by_ref", PROVINCE, e) for e in (by_admin, by_staff)])

    await _eventually(indexed, "the province's new reports to be pulled")

    # The province's own staff verify one in their system; the hub pulls it.
    await sandbox.set_status(PROVINCE, by_staff, "DIVERIFIKASI")
    staff_version = province.reports[by_staff].version

    async def pulled() -> bool:
        row = await db.fetchrow("report_by_ref", PROVINCE, by_staff)
        return bool(row["state"] == "VERIFIED")

    await _eventually(pulled, "the hub to pull the province's own verification")

    # The province's verifying admin (acting as node 16) verifies the other one in GraphQL.
    row = await db.fetchrow("report_by_ref", PROVINCE, by_admin)
    await admin_gql.data(VERIFY, id=str(row["id"]), v=row["version"], key=uuid.uuid4().hex)

    async def shown() -> bool:
        return await sandbox.status_of(PROVINCE, by_admin) == "DIVERIFIKASI"

    await _eventually(shown, "the province's system to show the admin's verification")

    async def drained() -> bool:
        return sync.lag(PROVINCE) == 0

    await _eventually(drained, "the province's sink to read every event")
    await asyncio.sleep(0.5)
    # The pulled change was not written back: the report is as the staff left it.
    assert province.reports[by_staff].version == staff_version
    assert await sandbox.status_of(PROVINCE, by_staff) == "DIVERIFIKASI"


async def test_a_confidential_regency_report_reaches_lapor_but_no_other_regency(
    connected_app: Starlette, sandbox: Sandbox
) -> None:
    db = connected_app.state.database
    token = await token_for(connected_app, "test-16.07-app", REGENCY, [f"node:{REGENCY}:write"])
    transport = httpx.ASGITransport(app=connected_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        regency = GraphQLClient(client, token)
        data = await regency.data(
            SUBMIT,
            key=uuid.uuid4().hex,
            input={
                "kind": "COMPLAINT", "complaintSubKind": "NON_SUPERVISORY",
                "regionCode": REGENCY, "topicId": 301,
                "title": "Pungutan liar di kantor desa",
                "content": "Petugas meminta uang untuk surat keterangan domisili.",
                "privacy": {"anonymous": False, "confidential": True},
                "reporter": {"name": "Siti Aminah", "phone": "081234567890"},
            },
        )  # fmt: skip
    report_id = data["submitReport"]["id"]
    assert data["submitReport"]["confidential"] is True

    async def at_lapor() -> bool:
        held = await sandbox.inventory("lapor")
        return any(hub_id == report_id for hub_id, _ in held.values())

    await _eventually(at_lapor, "the confidential report to be created at LAPOR!", within=60)
    external = next(e for e, (h, _) in (await sandbox.inventory("lapor")).items() if h == report_id)
    created = sandbox.systems["lapor"].reports[external]
    assert created.confidential
    assert created.title == "Pungutan liar di kantor desa"
    # The content went; the reporter's identity did not.
    assert created.reporter_name is None

    # The regency's own app sent it (its service account): its system is not sent it back.
    sync: SyncSupervisor = connected_app.state.sync

    async def drained() -> bool:
        return sync.lag(REGENCY) == 0

    await _eventually(drained, "the regency's sink to read every event")
    held = await sandbox.inventory(REGENCY)
    assert report_id not in {hub_id for hub_id, _ in held.values()}

    # Another regency's connector, asking the hub, still gets nothing to create.
    directory = HubDirectory(db)
    assert await directory.content(report_id, "16.01") is None
    other = default_registry().create(
        sandbox.node_table()["16.01"], Dependencies(directory=directory)
    )
    before = await sandbox.inventory("16.01")
    await other.start()
    try:
        await other.apply(_event(report_id))
    finally:
        await other.stop()
    assert await sandbox.inventory("16.01") == before


def _event(report_id: str) -> ReportEvent:
    """A status change of the report that names no ref at node 16.01."""
    return ReportEvent(
        event_id=str(uuid.uuid4()), report_id=report_id, version=2, verb=Verb.VERIFY,
        previous_state=ReportState.SUBMITTED, state=ReportState.VERIFIED,
        kind=ReportKind.COMPLAINT, region_code=REGENCY, origin_node=REGENCY,
        institution_codes=(), involved_nodes=(REGENCY, "lapor"),
        external_refs=(ExternalRef(REGENCY, "x"),),
        occurred_at=datetime.now(UTC), actor_node=PROVINCE,
        actor_role=ActorRole.INSTITUTION_ADMIN,
    )  # fmt: skip
