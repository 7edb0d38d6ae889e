"""A change costs PostgreSQL two statements: one read, one write, no transaction."""

from __future__ import annotations

import asyncio
import enum
from collections.abc import AsyncIterator
from dataclasses import replace

import asyncpg
import pytest

from hub.domain.commands import Actor, Decline, Dispose, FollowUp, Reporter, Submit, Verify
from hub.domain.service import ReportService
from hub.errors import BadInput, VersionConflict
from hub.store.database import Database
from hub.store.rows import ReportRow
from schema.lifecycle import ReportState
from schema.report import ActorRole, Channel, ComplaintSubKind, ReportKind
from tests.fixtures.postgres import opened

ADMIN = Actor("16", ActorRole.INSTITUTION_ADMIN, client_id="test-admin", everywhere=True)
SUBMISSION = Submit(
    kind=ReportKind.COMPLAINT, complaint_sub_kind=ComplaintSubKind.NON_SUPERVISORY,
    title="Jalan rusak", content="Berlubang besar.", region_code="16.71", topic_id=301,
    channel=Channel.MOBILE_APP,
)  # fmt: skip


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """One pooled connection, so every statement the service sends passes one logger."""
    async with opened(database_url, 1) as database:
        yield database


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[Database]:
    """Eight connections, for writers that race."""
    async with opened(database_url, 8) as database:
        yield database


async def _statements(db: Database) -> list[str]:
    sent: list[str] = []
    async with db.pool.acquire() as conn:
        conn.add_query_logger(lambda logged: sent.append(logged.query))
    return sent


async def test_each_transition_is_one_read_and_one_write(db: Database) -> None:
    service = ReportService(db)
    r = await service.execute(SUBMISSION, ADMIN)
    r = await service.execute(
        Verify(r.id), ADMIN, expected_version=1, idempotency_key="round-trip-0001"
    )
    sent = await _statements(db)
    r = await service.execute(
        Dispose(r.id, "opd-16-pubmtr", "jalan provinsi"), ADMIN, expected_version=2,
        idempotency_key="round-trip-0002",
    )  # fmt: skip
    r = await service.execute(FollowUp(r.id, "ditinjau"), ADMIN, expected_version=3)
    assert len(sent) == 4, sent  # two transitions, two statements each
    assert [q.split("\n")[0] for q in sent] == [
        db.sql[name].split("\n")[0] for name in ("transition_read", "transition_write") * 2
    ]
    assert (r.state, r.version, r.institution_code) == (
        ReportState.IN_FOLLOW_UP,
        4,
        "opd-16-pubmtr",
    )
    assert r.institution_name == (await service_row(db, r.id))["institution_name"]


async def test_each_submission_is_one_read_and_one_write(db: Database) -> None:
    """Report, reporter, external id, history, outbox record, idempotency record and audit
    entry in one write; a retry of it answers from one read and the report."""
    service = ReportService(db)
    full = replace(
        SUBMISSION, reporter=Reporter(name="Siti", nik="1671010101010001"),
        external_node="16.71", external_id="PLG-2026-000001",
    )  # fmt: skip
    await service.execute(SUBMISSION, ADMIN)  # asyncpg learns the statements' types once
    sent = await _statements(db)
    r = await service.execute(full, ADMIN, idempotency_key="round-trip-submit")
    assert [q.split("\n")[0] for q in sent] == [
        db.sql[name].split("\n")[0] for name in ("submission_read", "submission_write")
    ]
    sent.clear()
    again = await service.execute(full, ADMIN, idempotency_key="round-trip-submit")
    assert again == r
    assert len(sent) == 2, sent  # the read finds the key, then the report it answered
    written = await db.pool.fetchrow(
        "SELECT (SELECT count(*) FROM report_history WHERE report_id = $1) AS history,"
        " (SELECT count(*) FROM outbox WHERE report_id = $1) AS events,"
        " (SELECT count(*) FROM reporters WHERE report_id = $1) AS reporters,"
        " (SELECT count(*) FROM external_refs WHERE report_id = $1) AS refs,"
        " (SELECT count(*) FROM idempotency_keys WHERE report_id = $1) AS keys,"
        " (SELECT count(*) FROM audit_log WHERE report_id = $1) AS audited",
        r.id,
    )
    assert written is not None
    assert dict(written) == {
        "history": 1, "events": 1, "reporters": 1, "refs": 1, "keys": 1, "audited": 1
    }  # fmt: skip
    event = await db.pool.fetchval("SELECT data FROM outbox WHERE report_id = $1", r.id)
    assert '"externalRefs": [{"node": "16.71", "externalId": "PLG-2026-000001"}]' in event
    with pytest.raises(BadInput, match=r"externalRef \(16.71, PLG-2026-000001\) already names"):
        await service.execute(full, ADMIN)


async def test_what_a_submission_returns_is_what_the_index_holds(db: Database) -> None:
    service = ReportService(db)
    r = await service.execute(replace(SUBMISSION, title="  Jalan rusak  ", tags=("jalan",)), ADMIN)
    stored = await service_row(db, r.id)
    assert ReportRow.from_record(stored) == r
    assert (r.title, r.state, r.version, r.institution_code) == (
        "Jalan rusak", ReportState.SUBMITTED, 1, "pemda-16.71"
    )  # fmt: skip


async def test_racing_submissions_of_one_external_id_make_one_report(pool: Database) -> None:
    """Both read the id as free; the second write fails whole, as BAD_INPUT."""
    service = ReportService(pool)
    same = replace(SUBMISSION, external_node="16.71", external_id="PLG-RACE-1")
    results = await asyncio.gather(
        *(service.execute(same, ADMIN) for _ in range(8)), return_exceptions=True
    )
    winners = [x for x in results if not isinstance(x, BaseException)]
    assert len(winners) == 1
    assert all(
        isinstance(x, BadInput) and "already names a report" in x.message
        for x in results
        if x not in winners
    )
    assert await pool.pool.fetchval("SELECT count(*) FROM reports") == 1
    assert await pool.pool.fetchval("SELECT count(*) FROM report_history") == 1


async def test_a_submission_sent_twice_at_once_gets_one_answer(pool: Database) -> None:
    """A client retrying a submission before its first try answered: both tries name the
    same external id, and the retry gets the first's report, not BAD_INPUT."""
    service = ReportService(pool)
    # Every connection learns the statements first, so the tries below overlap.
    await asyncio.gather(*(service.execute(SUBMISSION, ADMIN) for _ in range(8)))
    same = replace(SUBMISSION, external_node="16.71", external_id="PLG-RETRY-1")
    results = await asyncio.gather(
        *(service.execute(same, ADMIN, idempotency_key="submitted-at-once") for _ in range(8))
    )
    assert len({(x.id, x.version) for x in results}) == 1
    assert await pool.pool.fetchval("SELECT count(*) FROM reports") == 9


async def service_row(db: Database, report_id: object) -> asyncpg.Record:
    row = await db.fetchrow("report_by_id", report_id)
    assert row is not None
    return row


async def test_what_a_transition_returns_is_what_the_index_holds(db: Database) -> None:
    service = ReportService(db)
    r = await service.execute(SUBMISSION, ADMIN)
    r = await service.execute(Verify(r.id), ADMIN, expected_version=1)
    r = await service.execute(Dispose(r.id, "opd-16-pubmtr"), ADMIN, expected_version=2)
    stored = await service_row(db, r.id)
    # Column for column as the index holds it (the row's enums stored as their names).
    assert tuple(stored.values()) == _columns(r)
    # The provincial agency's node joined the Palembang report's nodes with the disposition.
    assert stored["nodes"] == ["16", "16.71", "lapor"]
    # A decline sends it back to the institution that forwarded it, named as the index does.
    r = await service.execute(Decline(r.id, "bukan wewenang"), ADMIN, expected_version=3)
    assert tuple((await service_row(db, r.id)).values()) == _columns(r)
    assert (r.institution_code, r.institution_name) == ("pemda-16.71", "Pemerintah Kota Palembang")


def _columns(r: ReportRow) -> tuple[object, ...]:
    return tuple(v.value if isinstance(v, enum.Enum) else v for v in (
        r.id, r.kind, r.complaint_sub_kind, r.title, r.content, r.incident_date, r.location,
        r.latitude, r.longitude, r.topic_id, r.tags, r.channel, r.anonymous, r.confidential,
        r.origin_node, r.region_code, r.institution_code, r.state, r.archive_reason, r.version,
        r.sla_rule_version, r.submitted_at, r.updated_at, r.nodes, r.region_bps_code,
        r.region_name, r.region_type, r.region_parent_code, r.institution_name,
        r.institution_level, r.institution_node_code, r.institution_region_code,
        r.institution_active, r.institution_source,
    ))  # fmt: skip


async def test_racing_writers_of_one_version_have_one_winner(pool: Database) -> None:
    service = ReportService(pool)
    r = await service.execute(SUBMISSION, ADMIN)
    results = await asyncio.gather(
        *(service.execute(Verify(r.id, note=f"n{i}"), ADMIN, expected_version=1)
          for i in range(8)),
        return_exceptions=True,
    )  # fmt: skip
    winners = [x for x in results if not isinstance(x, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(x, VersionConflict) for x in results if x not in winners)
    history = await pool.pool.fetch(
        "SELECT version FROM report_history WHERE report_id = $1 ORDER BY version", r.id
    )
    outbox = await pool.pool.fetchval("SELECT count(*) FROM outbox WHERE report_id = $1", r.id)
    assert [h["version"] for h in history] == [1, 2]
    assert outbox == 2


async def test_the_same_request_sent_twice_at_once_gets_one_answer(pool: Database) -> None:
    """A client retrying before its first try answered: both get the first's result, and
    it happened once (not a VERSION_CONFLICT for the retry)."""
    service = ReportService(pool)
    r = await service.execute(SUBMISSION, ADMIN)
    results = await asyncio.gather(
        *(service.execute(Verify(r.id), ADMIN, expected_version=1,
                          idempotency_key="retried-at-once")
          for _ in range(8)),
    )  # fmt: skip
    assert {(x.id, x.version, x.state) for x in results} == {(r.id, 2, ReportState.VERIFIED)}
    versions = await pool.pool.fetchval(
        "SELECT count(*) FROM report_history WHERE report_id = $1", r.id
    )
    assert versions == 2
