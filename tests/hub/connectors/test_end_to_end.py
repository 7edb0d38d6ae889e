"""A report from a regency's own system, handled through the hub, seen back in every system."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

from starlette.applications import Starlette

from connectors.sandbox.sandbox import Sandbox
from tests.fixtures.app import GraphQLClient
from tests.hub.operations import COMPLETE, DISPOSE, FOLLOW_UP, VERIFY

REGENCY = "16.07"  # kabupaten GraphQL vocabulary: BARU, DIVERIFIKASI, ... SELESAI


async def _eventually(check: Callable[[], Awaitable[bool]], what: str, within: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


async def test_a_regency_report_is_handled_through_the_hub_and_every_node_shows_it(
    connected_app: Starlette, admin_gql: GraphQLClient, sandbox: Sandbox
) -> None:
    db = connected_app.state.database
    fresh = [eid for eid in await sandbox.inventory(REGENCY)
             if await sandbox.status_of(REGENCY, eid) == "BARU"]  # fmt: skip
    assert fresh

    async def indexed() -> bool:
        return all([await db.fetchrow("report_by_ref", REGENCY, e) for e in fresh])

    await _eventually(indexed, "the regency's new reports to be pulled")
    rows = [await db.fetchrow("report_by_ref", REGENCY, e) for e in fresh]
    assert {r["state"] for r in rows} == {"SUBMITTED"}
    # A confidential report is for the nodes involved only; this one goes everywhere.
    row = next(r for r in rows if not r["confidential"])
    external_id = next(e for e, r in zip(fresh, rows, strict=True) if r is row)
    report_id, version = str(row["id"]), row["version"]
    key = uuid.uuid4().hex
    for operation, field, extra in (
        (VERIFY, "verifyReport", {}),
        (DISPOSE, "disposeReport", {"to": "opd-16-dinkes"}),
        (FOLLOW_UP, "addFollowUp", {"content": "Tim dinas kesehatan sudah turun ke lokasi."}),
        (COMPLETE, "completeReport", {}),
    ):
        data = await admin_gql.data(
            operation, id=report_id, v=version, key=f"{key}-{field}", **extra
        )
        version = data[field]["version"]

    async def shown(node: str, external: str, label: str) -> bool:
        return await sandbox.status_of(node, external) == label

    await _eventually(lambda: shown(REGENCY, external_id, "SELESAI"), "the regency to show SELESAI")

    async def known_at(node: str) -> str | None:
        for eid, (hub_id, _) in (await sandbox.inventory(node)).items():
            if hub_id == report_id:
                return eid
        return None

    # The national system hears of every report: the hub created it there and linked it.
    # (The province's own node "16" hearing its admins is test_write_backs.py's concern.)
    await _eventually(lambda: _is_not_none(known_at("lapor")), "LAPOR to know it", within=90)
    external = await known_at("lapor")
    assert external is not None
    await _eventually(lambda: shown("lapor", external, "Selesai"), "LAPOR to show Selesai")
    refs = await db.fetch("external_refs_of_report", uuid.UUID(report_id))
    assert ("lapor", external) in {(r["node_code"], r["external_id"]) for r in refs}
    # Pulling the write-backs again changed nothing in the hub.
    await asyncio.sleep(0.5)
    row = await db.fetchrow("report_by_ref", REGENCY, external_id)
    assert (row["state"], row["version"]) == ("COMPLETED", version)


async def _is_not_none(value: Awaitable[object]) -> bool:
    return await value is not None
