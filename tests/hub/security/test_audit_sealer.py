"""The audit chain off the write path: entries append unsealed, one sealer chains them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from hub.security.audit import AuditLog
from hub.store.database import Database
from tests.fixtures.postgres import opened


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    async with opened(database_url, 8) as database:
        yield database


async def _record(audit: AuditLog, action: str) -> None:
    await audit.record(
        client_id="c", node_code="16.71", action=action, report_id=None, outcome="OK"
    )


async def test_concurrent_writers_append_and_one_sealer_chains_every_entry(db: Database) -> None:
    audit = AuditLog(db)
    await asyncio.gather(*(_record(audit, f"A{i}") for i in range(200)))
    assert (await audit.pending())[0] == 200
    assert (await audit.verify())[0] == 0  # nothing sealed yet, nothing checked yet

    # Two sealers at once (two hub processes): one holds the chain, the other skips.
    results = await asyncio.gather(audit.seal(batch=150), audit.seal(batch=150))
    assert sorted(r or 0 for r in results) in ([0, 150], [50, 150])
    while (await audit.pending())[0]:
        await audit.seal(batch=150)
    count, _, problem = await audit.verify()
    assert (count, problem) == (200, None)
    seqs = [r["seq"] for r in await db.pool.fetch("SELECT seq FROM audit_log ORDER BY seq")]
    assert seqs == list(range(1, 201))


async def test_an_entry_committed_late_is_sealed_after_the_others(
    db: Database, database_url: str
) -> None:
    audit = AuditLog(db)
    slow = await asyncpg.connect(database_url)
    try:
        async with slow.transaction():
            await audit.record(
                client_id="slow", node_code=None, action="SLOW", report_id=None, outcome="OK",
                session=db.on(slow),
            )  # fmt: skip
            await _record(audit, "FAST")  # commits first, with the higher id
            assert await audit.seal() == 1  # the slow one is not committed: not visible
        assert await audit.seal() == 1
    finally:
        await slow.close()
    rows = await db.pool.fetch("SELECT id, action FROM audit_log ORDER BY seq")
    assert [r["action"] for r in rows] == ["FAST", "SLOW"]
    assert rows[0]["id"] > rows[1]["id"]  # chained in seal order, not id order
    count, _, problem = await audit.verify()
    assert (count, problem) == (2, None)


async def test_an_entry_is_sealed_once_and_never_edited(db: Database) -> None:
    audit = AuditLog(db)
    await _record(audit, "FIRST")
    with pytest.raises(asyncpg.RestrictViolationError):  # unsealed, but its fields are fixed
        await db.pool.execute("UPDATE audit_log SET outcome = 'FORBIDDEN'")
    await audit.seal()
    with pytest.raises(asyncpg.RestrictViolationError):  # sealed: not even the seal moves
        await db.pool.execute("UPDATE audit_log SET hash = repeat('0', 64), prev_hash = hash")
    with pytest.raises(asyncpg.RestrictViolationError):
        await db.pool.execute("DELETE FROM audit_log")
    count, _, problem = await audit.verify()
    assert (count, problem) == (1, None)
