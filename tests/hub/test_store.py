"""The PostgreSQL index: migrations, append-only history, the outbox in the same transaction."""

from __future__ import annotations

import asyncio
import json
import uuid
from importlib.resources import files
from pathlib import Path

import asyncpg
import pytest
from starlette.applications import Starlette

from hub.domain.commands import Actor, Dispose, Submit, Verify
from hub.domain.service import ReportService
from hub.store import queries
from hub.store.database import Database
from hub.store.migrations import available
from hub.store.rows import InstitutionRow, RegionRow, typed
from schema.institutions import InstitutionLevel
from schema.regions import RegionType
from schema.report import ActorRole, Channel, PrivacyFlags, ReportKind
from tests.fixtures.postgres import create_database, drop_database

ACTOR = Actor("16.71", ActorRole.INSTITUTION_ADMIN)
CANARY = "KANARI-7f3a"


async def test_an_empty_database_migrates_to_head_once(postgres_url: str) -> None:
    name = f"sp4n_empty_{uuid.uuid4().hex[:8]}"
    url = await create_database(postgres_url, name)
    try:
        dbs = [Database(url, min_size=1, max_size=1) for _ in range(3)]
        for db in dbs:
            await db.open()
        # Three hub processes starting at once: the advisory lock serialises them.
        applied = await asyncio.gather(*(db.migrate() for db in dbs))
        assert sorted(len(a) for a in applied) == [0, 0, len(available())]
        assert await dbs[0].fetchval("ready") == len(available())
        assert await dbs[0].pool.fetchval("SELECT count(*) FROM nodes") == 19
        for db in dbs:
            await db.close()
    finally:
        await drop_database(postgres_url, name)


def test_named_queries_parse_and_refuse_duplicates() -> None:
    loaded = queries.load()
    assert "reports_page" in loaded
    assert "submission_write" in loaded
    with pytest.raises(ValueError, match="twice"):
        queries.parse("-- name: a\nSELECT 1\n-- name: a\nSELECT 2\n")


def test_each_rooms_sql_is_loaded_from_beside_it_and_migrations_are_not() -> None:
    """A room's queries live in its own folder; every ``.sql`` file is found, nested
    folders too, and the numbered migrations are not named queries."""
    found = dict(queries.sql_files(files("hub")))
    assert {"ministry/ministry.sql", "sync/sync.sql", "store/sql/reports.sql"} <= set(found)
    assert not [path for path in found if "migrations" in path]
    loaded = queries.load()
    assert {"ministry_refresh", "relay_batch", "client_add", "outbox_since"} <= set(loaded)


def test_typed_rows_take_columns_by_name_and_enums_as_enums() -> None:
    record = {"parent_code": None, "type": "KOTA", "name": "Palembang", "bps_code": "1671"}
    row = typed(RegionRow, {**record, "code": "16.71", "extra": 1})
    assert row == RegionRow("16.71", "1671", "Palembang", RegionType.KOTA, None)
    with pytest.raises(ValueError, match="'desa'"):
        typed(RegionRow, {**record, "code": "16.71", "type": "desa"})
    with pytest.raises(KeyError, match="code"):
        typed(RegionRow, record)
    level = typed(InstitutionRow, {"code": "x", "name": "X", "level": "PROVINCIAL_OPD",
                                   "node_code": "16", "region_code": None, "active": True,
                                   "source": None})  # fmt: skip
    assert level.level is InstitutionLevel.PROVINCIAL_OPD


def test_a_name_defined_in_two_rooms_is_refused_with_both_places(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.sql").write_text("-- name: same\nSELECT 1\n", encoding="utf-8")
    (tmp_path / "b" / "migrations").mkdir(parents=True)
    (tmp_path / "b" / "two.sql").write_text("-- name: same\nSELECT 2\n", encoding="utf-8")
    (tmp_path / "b" / "migrations" / "0001.sql").write_text("CREATE TABLE t ()", encoding="utf-8")
    monkeypatch.setattr(queries, "files", lambda _: tmp_path)
    with pytest.raises(ValueError, match=r"'same' is defined in hub/a/one.sql and hub/b/two.sql"):
        queries.load()


async def _submit(app: Starlette, **kw: object) -> uuid.UUID:
    service: ReportService = app.state.service
    command = Submit(
        kind=ReportKind.ASPIRATION,
        title=f"Usulan taman {CANARY}",
        content=f"Isi {CANARY}",
        region_code="16.71",
        topic_id=601,
        channel=Channel.WEB,
        **kw,  # type: ignore[arg-type]
    )
    row = await service.execute(command, ACTOR)
    return row.id


async def test_every_change_writes_history_and_an_outbox_event_without_content(
    app: Starlette, database_url: str
) -> None:
    from hub.domain.commands import Reporter

    rid = await _submit(
        app,
        reporter=Reporter(name=f"Budi {CANARY}", nik="1671010101010001", email="b@x.id"),
        privacy=PrivacyFlags(anonymous=True),
    )
    service: ReportService = app.state.service
    await service.execute(Verify(rid), ACTOR, expected_version=1)
    await service.execute(Dispose(rid, "opd-16-dlhp"), ACTOR, expected_version=2)
    conn = await asyncpg.connect(database_url)
    try:
        history = await conn.fetch(
            "SELECT version, to_state, actor_node FROM report_history WHERE report_id = $1"
            " ORDER BY version",
            rid,
        )
        assert [(h["version"], h["to_state"]) for h in history] == [
            (1, "SUBMITTED"),
            (2, "VERIFIED"),
            (3, "DISPOSED"),
        ]
        outbox = await conn.fetch(
            "SELECT version, event_type, data FROM outbox WHERE report_id = $1 ORDER BY id", rid
        )
        assert [o["event_type"] for o in outbox] == [
            "id.go.sp4n.report.submitted.v1",
            "id.go.sp4n.report.verified.v1",
            "id.go.sp4n.report.disposed.v1",
        ]
        last = json.loads(outbox[-1]["data"])
        assert last["institutionCodes"] == ["pemda-16.71", "opd-16-dlhp"]
        assert last["previousState"] == "VERIFIED"
        assert last["version"] == 3
        for row in outbox:
            assert CANARY not in row["data"]
            assert "1671010101010001" not in row["data"]
        identity = await conn.fetchrow("SELECT name, nik FROM reporters WHERE report_id = $1", rid)
        assert identity is not None
        assert identity["nik"] == "1671010101010001"
    finally:
        await conn.close()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE report_history SET note = 'rewritten'",
        "DELETE FROM report_history",
        "UPDATE dispositions SET to_institution = 'opd-16-dinkes'",
        "DELETE FROM dispositions",
    ],
)
async def test_history_and_disposition_chain_are_append_only(
    app: Starlette, database_url: str, statement: str
) -> None:
    rid = await _submit(app)
    service: ReportService = app.state.service
    await service.execute(Verify(rid), ACTOR, expected_version=1)
    await service.execute(Dispose(rid, "opd-16-dlhp"), ACTOR, expected_version=2)
    conn = await asyncpg.connect(database_url)
    try:
        with pytest.raises(asyncpg.RestrictViolationError, match="append-only"):
            await conn.execute(statement)
    finally:
        await conn.close()


async def test_a_failure_midway_leaves_nothing_half_written(
    app: Starlette, database_url: str
) -> None:
    """The outbox insert fails after the report row was updated (a submission's, and a
    transition's within its one write statement): all of it rolls back."""
    rid = await _submit(app)
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'the outbox is gone' USING ERRCODE = 'P0001'; END $$"
        )
        await conn.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION refuse()"
        )
        tables = ["reports", "report_history", "outbox", "audit_log", "idempotency_keys"]
        query = "SELECT " + ", ".join(f"(SELECT count(*) FROM {t})" for t in tables)
        before = await conn.fetchrow(query)
        service: ReportService = app.state.service
        with pytest.raises(asyncpg.RaiseError, match="the outbox is gone"):
            await service.execute(
                Verify(rid), ACTOR, expected_version=1, idempotency_key="half-written-1"
            )
        with pytest.raises(asyncpg.RaiseError, match="the outbox is gone"):
            await _submit(app)
        state = await conn.fetchrow("SELECT state, version FROM reports WHERE id = $1", rid)
        assert state is not None
        assert (state["state"], state["version"]) == ("SUBMITTED", 1)
        assert await conn.fetchrow(query) == before
    finally:
        await conn.close()
