"""A node's first pull, imported set-wise, against the per-change path on the same sandbox."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest

from connectors.change import ChangePage
from connectors.config import NodeTable
from connectors.errors import MalformedPayload
from connectors.sandbox.faults import Fault
from connectors.sandbox.sandbox import Sandbox
from hub import wiring
from hub.domain.commands import Actor, Verify
from hub.domain.service import ReportService
from hub.ingest.initial import AUDIT_ACTION, InitialSync
from hub.ingest.pull import Ingest
from hub.ministry.figures import GroupBy, Ranking, SlaCompliance, Statistics
from hub.ministry.period import Period
from hub.ministry.projection import RollupProjection
from hub.ministry.queries import MinistryQueries
from hub.ministry.settings import MinistrySettings
from hub.settings import Settings
from hub.store.database import Database
from schema.calendar import WIB
from schema.report import ActorRole
from tests.fixtures.postgres import create_database, database_name, drop_database

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=WIB)
UNMAPPED_STATE = ("lapor", "Menunggu Tanggapan")  # a label no mapping knows


def _fixed() -> datetime:
    return NOW


@pytest.fixture
async def other_db(postgres_url: str, template_url: str) -> AsyncIterator[Database]:
    """A second fresh index, so both paths can fill one each from the same sandbox."""
    name = f"sp4n_test_{os.getpid()}_per_change"
    url = await create_database(postgres_url, name, template=database_name(template_url))
    database = Database(url, min_size=1, max_size=4)
    await database.open()
    try:
        yield database
    finally:
        await database.close()
    await drop_database(postgres_url, name)


@dataclass
class Pulled:
    ingest: Ingest
    filled_pages: int = 0
    """Pages that carried changes (a date window may close with an empty one)."""


async def _pull(db: Database, table: NodeTable, *, bulk: bool) -> Pulled:
    service = ReportService(db, clock=_fixed)
    federation = wiring.federation(db, Settings(), env={}, node_table=table)
    pulled = Pulled(Ingest(db, service, federation, clock=_fixed, bulk=bulk))

    def count(page: ChangePage) -> None:
        pulled.filled_pages += bool(page.changes)

    await federation.start()
    try:
        for connector in pulled.ingest.pulling():
            await pulled.ingest.pull_once(connector, on_page=count)
    finally:
        await federation.stop()
    return pulled


async def _oddities(sandbox: Sandbox) -> dict[str, str]:
    """Reports the hub must not guess about: an unmapped status, an unmapped topic, and a
    disposition to an institution the hub does not know. Returns kind -> external id."""
    node, label = UNMAPPED_STATE
    sandbox.introduce_status(node, label)
    unmapped_state = sorted(await sandbox.inventory(node))[0]
    await sandbox.set_status(node, unmapped_state, label)
    rest = sandbox.systems["16.01"]
    unmapped_topic = sorted(rest.reports)[1]
    rest.reports[unmapped_topic].category = "TIDAK-ADA"
    gql = sandbox.systems["16.07"]
    unknown_institution = sorted(gql.reports)[2]
    gql.reports[unknown_institution].institution = "dinas-yang-tidak-ada"
    gql.set_status(gql.reports[unknown_institution], "DIDISPOSISI", "Diteruskan")
    return {
        "state": unmapped_state,
        "topic": unmapped_topic,
        "institution": unknown_institution,
    }


def _rows(records: list[asyncpg.Record], key: Callable[[asyncpg.Record], Any]) -> dict[Any, Any]:
    grouped: dict[Any, list[tuple[object, ...]]] = {}
    for r in records:
        grouped.setdefault(key(r), []).append(tuple(r.values())[1:])
    return grouped


async def _index(db: Database) -> dict[str, Any]:
    """The whole index, keyed by the node's ref instead of the hub's random report ids."""
    pool = db.pool
    ref = {
        r["report_id"]: (r["node_code"], r["external_id"])
        for r in await pool.fetch("SELECT report_id, node_code, external_id FROM external_refs")
    }

    def by_ref(r: asyncpg.Record) -> tuple[str, str]:
        return ref[r[0]]

    reports = await pool.fetch(
        "SELECT id, kind, complaint_sub_kind, title, content, incident_date, location, latitude, "
        "longitude, topic_id, tags, channel, anonymous, confidential, origin_node, region_code, "
        "institution_code, state, archive_reason, version, sla_rule_version, submitted_at, "
        "updated_at FROM reports"
    )
    history = await pool.fetch(
        "SELECT report_id, version, verb, from_state, to_state, actor_node, actor_role, note, at "
        "FROM report_history ORDER BY report_id, version"
    )
    dispositions = await pool.fetch(
        "SELECT report_id, seq, from_institution, to_institution, note, actor_node, at "
        "FROM dispositions ORDER BY report_id, seq"
    )
    follow_ups = await pool.fetch(
        "SELECT report_id, institution_code, content, actor_node, at FROM follow_ups "
        "ORDER BY report_id, id"
    )
    reporters = await pool.fetch("SELECT report_id, name, nik, phone, email FROM reporters")
    reviews = await pool.fetch(
        "SELECT node_code, external_id, external_version, raw_state, reason, report_id "
        "FROM review_queue"
    )
    facts = await pool.fetch("SELECT * FROM ministry_facts")
    return {
        "reports": _rows(reports, by_ref),
        "history": _rows(history, by_ref),
        "dispositions": _rows(dispositions, by_ref),
        "follow_ups": _rows(follow_ups, by_ref),
        "reporters": _rows(reporters, by_ref),
        "reviews": {
            (*tuple(r.values())[:5], ref.get(r["report_id"]) if r["report_id"] else None)
            for r in reviews
        },
        "facts": _rows(facts, by_ref),
    }


async def _figures(db: Database) -> list[object]:
    """Everything the ministry asks for 2026, judged a fortnight after the pull, once
    the roll-ups' projection has caught up (the time they are current to left out)."""
    await RollupProjection(db).catch_up()
    ministry = MinistryQueries(db, MinistrySettings(), clock=lambda: NOW + timedelta(days=14))
    period = Period.year(2026)
    figures: list[Ranking | Statistics | SlaCompliance] = [await ministry.ranking(period, None)]
    for group_by in GroupBy:
        figures.append(await ministry.statistics(period, group_by))
        figures.append(await ministry.sla_compliance(period, group_by))
    return [replace(f, current_to=NOW) for f in figures]


async def test_the_import_gives_the_same_index_as_the_per_change_path(
    db: Database, other_db: Database, table: NodeTable, sandbox: Sandbox
) -> None:
    odd = await _oddities(sandbox)
    bulk = await _pull(db, table, bulk=True)
    per_change = await _pull(other_db, table, bulk=False)

    imported, applied = await _index(db), await _index(other_db)
    assert len(imported["reports"]) > 300
    for part in ("reports", "history", "dispositions", "follow_ups", "reporters", "reviews"):
        assert imported[part] == applied[part], part
    # The comparison covers what matters: privacy flags, identities, every state,
    # disposition chains, follow-ups and each kind of review.
    rows = [r[0] for r in imported["reports"].values()]
    assert any(r[11] for r in rows)  # anonymous
    assert any(r[12] for r in rows)  # confidential
    assert {r[16] for r in rows} >= {"SUBMITTED", "VERIFIED", "DISPOSED", "COMPLETED"}
    assert imported["reporters"]
    assert imported["dispositions"]
    assert imported["follow_ups"]
    reasons = {(r[0], r[1]): r[4] for r in imported["reviews"]}
    assert reasons[(UNMAPPED_STATE[0], odd["state"])] == f"unmapped status {UNMAPPED_STATE[1]!r}"
    assert reasons[("16.01", odd["topic"])] == "unmapped topic 'TIDAK-ADA'"
    assert reasons[("16.07", odd["institution"])].startswith("DISPOSE: ")
    stats = {node: (s.submitted, s.moved, s.unchanged, s.reviewed)
             for node, s in bulk.ingest.stats.items()}  # fmt: skip
    assert stats == {node: (s.submitted, s.moved, s.unchanged, s.reviewed)
                     for node, s in per_change.ingest.stats.items()}  # fmt: skip
    # No outbox event for imported reports; one audit entry per imported page.
    assert await db.pool.fetchval("SELECT count(*) FROM outbox") == 0
    assert await other_db.pool.fetchval("SELECT count(*) FROM outbox") > 0
    audit = await db.pool.fetch("SELECT action FROM audit_log")
    assert {r["action"] for r in audit} == {AUDIT_ACTION}
    assert len(audit) == bulk.filled_pages


async def test_ministry_figures_after_an_import_equal_the_per_change_ones(
    db: Database, other_db: Database, table: NodeTable, sandbox: Sandbox
) -> None:
    await _oddities(sandbox)
    await _pull(db, table, bulk=True)
    await _pull(other_db, table, bulk=False)
    imported = await _figures(db)
    assert imported == await _figures(other_db)
    assert (await _index(db))["facts"] == (await _index(other_db))["facts"]
    # And they are what a full rebuild computes: the import's refreshes left nothing out.
    await db.pool.execute("SELECT ministry_rebuild()")
    assert await _figures(db) == imported


async def test_re_running_the_import_changes_nothing(
    db: Database, table: NodeTable, sandbox: Sandbox
) -> None:
    await _oddities(sandbox)
    await _pull(db, table, bulk=True)
    before = await _index(db)
    entries = await db.pool.fetchval("SELECT count(*) FROM audit_log")
    await db.pool.execute("DELETE FROM node_watermarks")  # a first pull once more
    again = await _pull(db, table, bulk=True)
    assert await _index(db) == before
    assert await db.pool.fetchval("SELECT count(*) FROM audit_log") == entries
    assert sum(s.submitted for s in again.ingest.stats.values()) == 0
    assert len(await db.fetch("watermarks")) == len(again.ingest.pulling())


async def test_an_unmapped_state_is_imported_as_submitted_and_goes_to_review(
    db: Database, table: NodeTable, sandbox: Sandbox
) -> None:
    node, label = UNMAPPED_STATE
    external_id = (await _oddities(sandbox))["state"]
    await _pull(db, table.only({node}), bulk=True)
    row = await db.pool.fetchrow(
        "SELECT q.raw_state, q.reason, r.state, r.version FROM review_queue q "
        "JOIN external_refs e ON e.report_id = q.report_id "
        "JOIN reports r ON r.id = q.report_id WHERE e.node_code = $1 AND e.external_id = $2",
        node,
        external_id,
    )
    assert row is not None
    assert tuple(row) == (label, f"unmapped status {label!r}", "SUBMITTED", 1)


async def test_a_malformed_page_writes_nothing_and_says_what_was_wrong(
    db: Database, table: NodeTable, sandbox: Sandbox
) -> None:
    node = "16.01"
    sandbox.fault(node, Fault.MALFORMED)
    with pytest.raises(MalformedPayload) as caught:
        await _pull(db, table.only({node}), bulk=True)
    assert "diperbarui" in str(caught.value) or "diubah" in str(caught.value)
    counts = await db.pool.fetchrow(
        "SELECT (SELECT count(*) FROM reports), (SELECT count(*) FROM review_queue), "
        "(SELECT count(*) FROM node_watermarks), (SELECT count(*) FROM audit_log)"
    )
    assert tuple(counts or ()) == (0, 0, 0, 0)
    sandbox.fault(node, Fault.NONE)
    await _pull(db, table.only({node}), bulk=True)
    assert await db.pool.fetchval("SELECT count(*) FROM reports") == len(
        await sandbox.inventory(node)
    )


async def _first_page_only(
    db: Database, nodes: NodeTable, node: str, monkeypatch: pytest.MonkeyPatch
) -> Ingest:
    """Imports the node's first page and stops, before any roll-up refresh ran (as a
    hub stopped right after that commit would); the drain stays off until undone."""
    monkeypatch.setattr(InitialSync, "_drain_in_background", lambda self: None)
    federation = wiring.federation(db, Settings(), env={}, node_table=nodes)
    ingest = Ingest(db, ReportService(db, clock=_fixed), federation, clock=_fixed)
    await federation.start()
    try:
        async for page in federation[node].pull(None):
            await ingest.initial.import_page(node, page)
            break
    finally:
        await federation.stop()
    return ingest


async def test_roll_ups_an_interrupted_import_left_pending_are_refreshed_by_the_next_pull(
    db: Database, table: NodeTable, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = "16.01"
    nodes = table.only({node})
    await _first_page_only(db, nodes, node, monkeypatch)
    reports = await db.pool.fetchval("SELECT count(*) FROM reports")
    assert reports > 0
    assert await db.pool.fetchval("SELECT count(*) FROM ministry_pending") == reports
    assert await db.pool.fetchval("SELECT count(*) FROM ministry_facts") == 0
    monkeypatch.undo()

    await _pull(db, nodes, bulk=True)  # the next pull, change by change from the watermark
    assert await db.pool.fetchval("SELECT count(*) FROM ministry_pending") == 0
    facts = await db.pool.fetchval("SELECT count(*) FROM ministry_facts")
    assert facts == await db.pool.fetchval("SELECT count(*) FROM reports")
    figures = await _figures(db)
    await db.pool.execute("SELECT ministry_rebuild()")
    assert await _figures(db) == figures


async def test_a_write_racing_the_refresh_of_pending_reports_is_counted_once(
    db: Database, table: NodeTable, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = "16.01"
    ingest = await _first_page_only(db, table.only({node}), node, monkeypatch)
    submitted = await db.pool.fetch(
        "SELECT id, version FROM reports WHERE state = 'SUBMITTED' ORDER BY id LIMIT 20"
    )
    assert submitted
    service = ReportService(db, clock=_fixed)
    admin = Actor("16", ActorRole.INSTITUTION_ADMIN, everywhere=True)

    async def verify(row: asyncpg.Record) -> None:
        await service.execute(Verify(row["id"]), admin, expected_version=row["version"])

    # The admins verify pending reports while their deferred roll-ups are refreshed: each
    # report's two refreshes must not interleave (counted twice, or a fact-row collision).
    await asyncio.gather(ingest.initial.refresh_rollups(node), *(verify(r) for r in submitted))
    assert await db.pool.fetchval("SELECT count(*) FROM ministry_pending") == 0
    figures = await _figures(db)
    await db.pool.execute("SELECT ministry_rebuild()")
    assert await _figures(db) == figures
