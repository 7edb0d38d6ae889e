"""Old audit entries move into archived segments, and verify still proves the whole
history: a segment or a kept entry tampered with is found, by the command too."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from hub.security.audit import AuditArchiver, AuditLog
from hub.security.audit_segments import pack, unpack
from hub.store.database import Database
from hub.store.retention import Retention
from tests.fixtures.postgres import ROOT

OLD, NEW, SEGMENT = 25, 5, 10
"""Entries 100 days old, entries of today, entries per segment."""


@pytest.fixture
async def archived(db: Database) -> AuditLog:
    """30 sealed entries, the 20 oldest of them archived in two segments."""
    then = datetime.now(UTC) - timedelta(days=100)
    for i, clock in enumerate([lambda: then] * OLD + [lambda: datetime.now(UTC)] * NEW):
        await AuditLog(db, clock=clock).record(
            client_id="c", node_code="16.71", action=f"A{i}", report_id=None, outcome="OK"
        )
    audit = AuditLog(db)
    await audit.seal()
    assert await audit.archive(90, SEGMENT) == SEGMENT
    assert await audit.archive(90, SEGMENT) == SEGMENT
    assert await audit.archive(90, SEGMENT) == 0  # 5 old + 5 new left: not a whole old segment
    return audit


async def _superuser(database_url: str, *statements: str) -> None:
    """Runs ``statements`` as a tamperer who may switch the triggers off."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("ALTER TABLE audit_segments DISABLE TRIGGER USER")
        await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def test_archived_and_kept_entries_verify_as_one_chain(
    db: Database, archived: AuditLog
) -> None:
    rows = await db.pool.fetch("SELECT first_seq, last_seq, entries FROM audit_segments")
    assert [tuple(r) for r in rows] == [(1, 10, 10), (11, 20, 10)]
    assert await db.pool.fetchval("SELECT min(seq) FROM audit_log") == 21
    count, head, problem = await archived.verify()
    assert (count, problem) == (OLD + NEW, None)
    assert head == await db.pool.fetchval("SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1")

    # The sealer goes on from the chain's head, even when every entry is archived.
    await archived.record(client_id="c", node_code=None, action="LATER", report_id=None,
                          outcome="OK")  # fmt: skip
    await archived.seal()
    assert (await archived.verify())[::2] == (OLD + NEW + 1, None)


async def test_only_archived_entries_may_leave_and_segments_never_change(
    db: Database, archived: AuditLog
) -> None:
    for statement in (
        "DELETE FROM audit_log WHERE seq = 21",  # kept: not in any segment
        "DELETE FROM audit_segments WHERE first_seq = 1",
        "UPDATE audit_segments SET head_hash = 'x' WHERE first_seq = 1",
    ):
        with pytest.raises(asyncpg.RestrictViolationError):
            await db.pool.execute(statement)


def _altered_body(body: bytes) -> bytes:
    entries = unpack(body)
    entries[3] = dataclasses.replace(entries[3], outcome="FORBIDDEN")
    return pack(entries)


@pytest.mark.parametrize(
    ("tamper", "finding"),
    [
        ("edit-archived", "segment 1-10: entry 4 was altered"),
        (
            "UPDATE audit_segments SET head_hash = repeat('a', 64) WHERE first_seq = 1",
            "segment 1-10's recorded head is not its last entry's hash",
        ),
        ("DELETE FROM audit_segments WHERE first_seq = 1", "segment 11-20 does not follow entry 0"),
        ("DELETE FROM audit_segments WHERE first_seq = 11", "entry 21 does not follow entry 10"),
        ("UPDATE audit_segments SET body = 'junk' WHERE first_seq = 11",
         "segment 11-20 cannot be read"),
        ("UPDATE audit_log SET outcome = 'OK!' WHERE seq = 23", "entry 23 was altered"),
        ("DELETE FROM audit_log WHERE seq = 21", "entry 22 does not follow entry 20"),
    ],
)  # fmt: skip
async def test_a_tampered_segment_or_kept_entry_fails_verify(
    db: Database, archived: AuditLog, database_url: str, tamper: str, finding: str
) -> None:
    if tamper == "edit-archived":  # rewrite one archived entry inside its segment's body
        body = await db.pool.fetchval("SELECT body FROM audit_segments WHERE first_seq = 1")
        conn = await asyncpg.connect(database_url)
        try:
            await conn.execute("ALTER TABLE audit_segments DISABLE TRIGGER USER")
            await conn.execute(
                "UPDATE audit_segments SET body = $1 WHERE first_seq = 1", _altered_body(body)
            )
        finally:
            await conn.close()
    else:
        await _superuser(database_url, tamper)
    _, _, problem = await archived.verify()
    assert problem == finding


async def _verify_command(database_url: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hub.cli", "audit", "verify",
        env={**os.environ, "DATABASE_URL": database_url}, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode()


async def test_the_command_proves_the_archived_history_and_names_a_tampered_segment(
    archived: AuditLog, database_url: str
) -> None:
    code, out = await _verify_command(database_url)
    assert code == 0, out
    assert f"audit log intact: {OLD + NEW} sealed entries" in out
    assert "2 archived segments" in out

    await _superuser(database_url, "UPDATE audit_segments SET body = 'junk' WHERE first_seq = 1")
    code, out = await _verify_command(database_url)
    assert code == 1
    assert "segment 1-10 cannot be read" in out


async def test_an_archive_waits_for_the_sealer_rather_than_skipping_its_pass(
    db: Database, database_url: str
) -> None:
    then = datetime.now(UTC) - timedelta(days=100)
    audit = AuditLog(db, clock=lambda: then)
    for i in range(SEGMENT):
        await audit.record(client_id="c", node_code=None, action=f"A{i}", report_id=None,
                           outcome="OK")  # fmt: skip
    await audit.seal()
    retention = Retention([AuditArchiver(AuditLog(db), 90, SEGMENT)])
    sealer = await asyncpg.connect(database_url)
    try:
        async with sealer.transaction():  # another process's sealer holds the chain
            assert await sealer.fetchval("SELECT pg_try_advisory_xact_lock(1598570241)")
            archiving = asyncio.create_task(retention.run_once())
            await asyncio.sleep(0.6)
            assert not archiving.done()
        assert await asyncio.wait_for(archiving, 10) == {"audit_log": SEGMENT}
    finally:
        await sealer.close()
    assert (await AuditLog(db).verify())[::2] == (SEGMENT, None)
