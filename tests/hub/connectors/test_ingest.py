"""Pulls from the sandbox nodes into the hub's index, through the one write path."""

from __future__ import annotations

import asyncio
from collections import Counter

from connectors.sandbox.faults import Fault
from connectors.sandbox.sandbox import Sandbox
from tests.hub.connectors.conftest import Hub


async def _pull_all(hub: Hub) -> None:
    for connector in hub.ingest.pulling():
        await hub.ingest.pull_once(connector)


async def test_a_pull_indexes_every_node_report_with_its_ref(hub: Hub, sandbox: Sandbox) -> None:
    await _pull_all(hub)
    refs = await hub.db.pool.fetch("SELECT node_code, external_id FROM external_refs")
    per_node = Counter(r["node_code"] for r in refs)
    reviewed = Counter(
        r["node_code"] for r in await hub.db.pool.fetch("SELECT node_code FROM review_queue")
    )
    for connector in hub.ingest.pulling():
        node = connector.node_code
        held = await sandbox.inventory(node)
        assert held, node
        assert per_node[node] == len(held), node
    assert reviewed == Counter()
    watermarks = await hub.db.fetch("watermarks")
    assert {w["node_code"] for w in watermarks} == {c.node_code for c in hub.ingest.pulling()}


async def test_a_re_pull_doubles_nothing(hub: Hub) -> None:
    await _pull_all(hub)
    counts = "SELECT (SELECT count(*) FROM reports), (SELECT count(*) FROM report_history), " \
        "(SELECT count(*) FROM review_queue), (SELECT count(*) FROM outbox)"  # fmt: skip
    before = await hub.db.pool.fetchrow(counts)
    await hub.db.pool.execute("DELETE FROM node_watermarks")  # from the very beginning again
    await _pull_all(hub)
    assert await hub.db.pool.fetchrow(counts) == before


async def test_states_are_mapped_from_each_vocabulary(hub: Hub, sandbox: Sandbox) -> None:
    node = "16.07"  # the kabupaten GraphQL vocabulary: one label per state
    await sandbox.set_status(node, next(iter(await sandbox.inventory(node))), "DIVERIFIKASI")
    await hub.ingest.pull_once(hub.federation[node])
    rows = await hub.db.pool.fetch(
        "SELECT e.external_id, r.state FROM external_refs e JOIN reports r ON r.id = e.report_id "
        "WHERE e.node_code = $1",
        node,
    )
    labels = {"SUBMITTED": "BARU", "POSTPONED": "DITUNDA", "VERIFIED": "DIVERIFIKASI",
              "DISPOSED": "DIDISPOSISI", "IN_FOLLOW_UP": "DITANGANI", "COMPLETED": "SELESAI",
              "ARCHIVED": "DIARSIPKAN"}  # fmt: skip
    reviewed = {
        r["external_id"]
        for r in await hub.db.pool.fetch(
            "SELECT external_id FROM review_queue WHERE node_code = $1", node
        )
    }
    assert rows
    for row in rows:
        if row["external_id"] not in reviewed:
            assert await sandbox.status_of(node, row["external_id"]) == labels[row["state"]]


async def test_an_unknown_state_goes_to_review(hub: Hub, sandbox: Sandbox) -> None:
    node = "lapor"
    await hub.ingest.pull_once(hub.federation[node])
    external_id = next(iter(await sandbox.inventory(node)))
    sandbox.introduce_status(node, "Menunggu Tanggapan")  # no mapping knows it
    await sandbox.set_status(node, external_id, "Menunggu Tanggapan")
    await hub.ingest.pull_once(hub.federation[node])
    row = await hub.db.pool.fetchrow(
        "SELECT raw_state, reason, report_id FROM review_queue "
        "WHERE node_code = $1 AND external_id = $2",
        node,
        external_id,
    )
    assert row is not None
    assert row["raw_state"] == "Menunggu Tanggapan"
    assert "unmapped status" in row["reason"]
    assert row["report_id"] is not None


async def test_a_failing_node_does_not_stop_the_others(hub: Hub, sandbox: Sandbox) -> None:
    sandbox.fault("16.71", Fault.ERROR)
    stop = asyncio.Event()
    task = asyncio.create_task(hub.ingest.run(stop, nodes=["16.71", "16.07"]))
    for _ in range(200):
        if await hub.db.fetchval("watermark_of", "16.07") is not None:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, 10)
    assert await hub.db.fetchval("watermark_of", "16.07") is not None
    assert await hub.db.fetchval("watermark_of", "16.71") is None
    assert hub.ingest.stats["16.71"].last_error is not None


async def test_a_node_declining_a_disposition_sends_the_report_back(
    hub: Hub, sandbox: Sandbox
) -> None:
    node = "lapor"  # "Bukan Wewenang": not our competence
    await hub.ingest.pull_once(hub.federation[node])
    disposed = [
        external_id
        for external_id in await sandbox.inventory(node)
        if await sandbox.status_of(node, external_id) == "Terdisposisi"
    ]
    assert disposed
    external_id = disposed[0]
    before = await hub.db.fetchrow("report_by_ref", node, external_id)
    assert before is not None
    assert before["state"] == "DISPOSED"
    await sandbox.set_status(node, external_id, "Bukan Wewenang")
    await hub.ingest.pull_once(hub.federation[node])
    after = await hub.db.fetchrow("report_by_ref", node, external_id)
    assert after is not None
    assert (after["state"], after["version"]) == ("VERIFIED", before["version"] + 1)
    last = await hub.db.pool.fetchrow(
        "SELECT h.verb, h.actor_node, d.declined, d.from_institution, d.to_institution "
        "FROM report_history h JOIN dispositions d ON d.report_id = h.report_id "
        "WHERE h.report_id = $1 ORDER BY h.version DESC, d.seq DESC LIMIT 1",
        after["id"],
    )
    assert last is not None
    assert (last["verb"], last["actor_node"], last["declined"]) == ("DECLINE", node, True)
    assert (last["from_institution"], last["to_institution"]) == (
        before["institution_code"], after["institution_code"],
    )  # fmt: skip
