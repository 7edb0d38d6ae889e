"""Auto-close after 10 quiet working days, through the write path, as the SYSTEM actor."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date

import pytest

from hub.domain.commands import (
    Actor,
    Command,
    Complete,
    Dispose,
    FollowUp,
    Reopen,
    Reply,
    Verify,
)
from hub.domain.service import ReportService
from hub.ministry.autoclose import AUTO_CLOSE_NOTE, AutoCloser
from hub.ministry.figures import GroupBy
from hub.ministry.period import Period
from hub.ministry.queries import MinistryQueries
from hub.ministry.settings import MinistrySettings
from hub.store.database import Database
from hub.store.migrations import available
from hub.store.rows import ReportRow
from schema.report import ActorRole, ReportKind
from tests.hub.ministry.dataset import Clock, Writer, wib


async def _followed_up(w: Writer, day: int) -> ReportRow:
    """A complaint submitted on 6 July 2026 and followed up on ``day`` July at 10:00."""
    r = await w.submit(wib(7, 6, 9), ReportKind.COMPLAINT, "16.71")
    r = await w.act(wib(7, 6, 10), r, Verify(r.id))
    r = await w.act(wib(7, 7, 10), r, Dispose(r.id, "opd-16-pubmtr"))
    return await w.act(wib(7, day, 10), r, FollowUp(r.id, "Sudah kami perbaiki."))


async def _state(db: Database, report_id: uuid.UUID) -> tuple[str, int]:
    row = await db.fetchrow("report_by_id", report_id)
    assert row is not None
    return row["state"], row["version"]


async def test_a_quiet_report_is_completed_by_the_system_after_ten_working_days(
    db: Database,
) -> None:
    w = Writer(db)
    quiet = await _followed_up(w, 8)
    replied = await _followed_up(w, 8)
    replied = await w.act(wib(7, 8, 11), replied, Complete(replied.id))
    replied = await w.act(wib(7, 9, 8), replied, Reopen(replied.id, "Belum selesai."))
    redisposed = await _followed_up(w, 8)
    redisposed = await w.act(wib(7, 9, 8), redisposed, Dispose(redisposed.id, "pemda-16.71"))
    later = await _followed_up(w, 8)
    later = await w.act(wib(7, 15, 10), later, FollowUp(later.id, "Tahap kedua selesai."))
    # The reporter answered the follow-up: the institution owes another one.
    answered = await _followed_up(w, 8)
    answered = await w.act(wib(7, 9, 8), answered, Reply(answered.id, "Masih bocor di sisi timur."))
    # Completed in the regency's own system and pulled: the node's system, not the hub.
    pulled = await _followed_up(w, 8)
    node_system = Actor("16.71", ActorRole.NODE_SYSTEM, everywhere=True)
    await w.act(wib(7, 9, 9), pulled, Complete(pulled.id), actor=node_system)
    clock = Clock(wib(7, 22, 23, 30))
    closer = AutoCloser(db, ReportService(db, clock=clock), MinistrySettings(), clock=clock)
    # Followed up Wednesday 8 July: the tenth working day after is Wednesday 22 July.
    assert await closer.close_due() == 0
    clock.now = wib(7, 23, 0, 5)
    assert await closer.close_due() == 1
    assert await _state(db, quiet.id) == ("COMPLETED", quiet.version + 1)
    assert await _state(db, replied.id) == ("IN_FOLLOW_UP", replied.version)
    assert await _state(db, redisposed.id) == ("DISPOSED", redisposed.version)
    assert await _state(db, later.id) == ("IN_FOLLOW_UP", later.version)
    assert await _state(db, answered.id) == ("IN_FOLLOW_UP", answered.version)
    history = await db.fetch("history_by_reports", [quiet.id])
    last = history[-1]
    assert (last["verb"], last["actor_role"], last["actor_node"]) == ("COMPLETE", "SYSTEM", "16")
    assert last["note"] == AUTO_CLOSE_NOTE
    async with db.pool.acquire() as conn:
        events = await conn.fetch(
            "SELECT event_type, data FROM outbox WHERE report_id = $1 ORDER BY id", quiet.id
        )
    # Synced like any other change: the event is in the outbox of the same transaction.
    assert events[-1]["event_type"] == "id.go.sp4n.report.completed.v1"
    assert json.loads(events[-1]["data"])["actorRole"] == "SYSTEM"
    assert await closer.close_due() == 0  # nothing twice
    july = Period(date(2026, 7, 1), date(2026, 8, 1))
    stats = await MinistryQueries(db, MinistrySettings(suppress_below=1)).statistics(
        july, GroupBy.STATE
    )
    assert stats.total is not None
    # The reopened one was completed once by an admin, the pulled one by its node's own
    # system; only the quiet one by the hub's auto-close.
    assert (stats.total.completed, stats.total.auto_closed) == (3, 1)


class _ReplyFirst(ReportService):
    """Lets an admin post another follow-up just before the auto-close lands."""

    def __init__(self, db: Database, clock: Clock, writer: Writer, report: ReportRow) -> None:
        super().__init__(db, clock=clock)
        self._writer = writer
        self._report = report

    async def execute(
        self,
        command: Command,
        actor: Actor,
        *,
        idempotency_key: str | None = None,
        expected_version: int | None = None,
    ) -> ReportRow:
        reply = FollowUp(self._report.id, "Tanggapan terakhir.")
        await self._writer.act(wib(7, 23, 9), self._report, reply)
        return await super().execute(
            command, actor, idempotency_key=idempotency_key, expected_version=expected_version
        )


async def test_a_reply_that_lands_first_wins_over_the_auto_close(db: Database) -> None:
    w = Writer(db)
    report = await _followed_up(w, 8)
    clock = Clock(wib(7, 23, 9))
    closer = AutoCloser(db, _ReplyFirst(db, clock, w, report), MinistrySettings(), clock=clock)
    # The closer read version n; the reply made it n + 1; expected_version refuses the close.
    assert await closer.close_due() == 0
    assert await _state(db, report.id) == ("IN_FOLLOW_UP", report.version + 1)


async def test_the_loop_closes_due_reports_and_stops_when_asked(db: Database) -> None:
    w = Writer(db)
    report = await _followed_up(w, 8)
    clock = Clock(wib(8, 3, 9))
    settings = MinistrySettings(auto_close_interval=60)
    closer = AutoCloser(db, ReportService(db, clock=clock), settings, clock=clock)
    stop = asyncio.Event()
    task = asyncio.create_task(closer.run(stop))
    for _ in range(100):
        if (await _state(db, report.id))[0] == "COMPLETED":
            break
        await asyncio.sleep(0.05)
    assert await _state(db, report.id) == ("COMPLETED", report.version + 1)
    stop.set()
    await asyncio.wait_for(task, timeout=5)


async def test_a_stop_during_the_first_calendar_sync_ends_the_loop_at_once(db: Database) -> None:
    closer = AutoCloser(db, ReportService(db), MinistrySettings())
    stop = asyncio.Event()
    async with db.pool.acquire() as conn, conn.transaction():
        # Someone holds the calendar: the sync at start cannot get on.
        await conn.execute("LOCK TABLE ministry_calendar IN ACCESS EXCLUSIVE MODE")
        task = asyncio.create_task(closer.run(stop))
        await asyncio.sleep(0.5)
        assert not task.done()
        stop.set()
        # The hub stops without waiting for the sync (it rolls back and retries next start).
        await asyncio.wait_for(task, timeout=2)


class _FailsOnce(ReportService):
    """The first close hits a database hiccup; the next pass goes through."""

    failures = 0

    async def execute(
        self,
        command: Command,
        actor: Actor,
        *,
        idempotency_key: str | None = None,
        expected_version: int | None = None,
    ) -> ReportRow:
        if not self.failures:
            self.failures += 1
            raise ConnectionResetError("the database went away")
        return await super().execute(
            command, actor, idempotency_key=idempotency_key, expected_version=expected_version
        )


async def test_a_failed_pass_is_logged_and_tried_again(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    w = Writer(db)
    report = await _followed_up(w, 8)
    clock = Clock(wib(8, 3, 9))
    settings = MinistrySettings(auto_close_interval=1)
    service = _FailsOnce(db, clock=clock)
    closer = AutoCloser(db, service, settings, clock=clock, sync_calendar=False)
    stop = asyncio.Event()
    task = asyncio.create_task(closer.run(stop))
    for _ in range(100):
        if (await _state(db, report.id))[0] == "COMPLETED":
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    assert service.failures == 1
    assert await _state(db, report.id) == ("COMPLETED", report.version + 1)
    # A database outage is logged as one (with when it began and ended), not as a bug.
    assert "auto-close: PostgreSQL unreachable: ConnectionResetError" in caplog.text
    assert "auto-close: PostgreSQL reachable again" in caplog.text


async def test_history_from_before_the_role_split_is_corrected(db: Database) -> None:
    """Migration 0008: old rows recorded a node's own system as SYSTEM too."""
    w = Writer(db)
    quiet = await _followed_up(w, 8)
    pulled = await _followed_up(w, 8)
    node_system = Actor("16.71", ActorRole.NODE_SYSTEM, everywhere=True)
    await w.act(wib(7, 9, 9), pulled, Complete(pulled.id), actor=node_system)
    clock = Clock(wib(7, 23, 0, 5))
    closer = AutoCloser(db, ReportService(db, clock=clock), MinistrySettings(), clock=clock)
    assert await closer.close_due() == 1
    july = Period(date(2026, 7, 1), date(2026, 8, 1))
    ministry = MinistryQueries(db, MinistrySettings(suppress_below=1))
    async with db.pool.acquire() as conn:
        # The history as the hub wrote it before the split.
        await conn.execute("ALTER TABLE report_history DISABLE TRIGGER USER")
        await conn.execute(
            "UPDATE report_history SET actor_role = 'SYSTEM' WHERE actor_role = 'NODE_SYSTEM'"
        )
        await conn.execute("ALTER TABLE report_history ENABLE TRIGGER USER")
        await conn.execute("SELECT ministry_rebuild()")
        before = await ministry.statistics(july, GroupBy.STATE)
        assert before.total is not None
        assert before.total.auto_closed == 2  # the miscount
        migration = next(m for m in available() if m.version == 8)
        async with conn.transaction():
            await conn.execute(migration.sql)
    after = await ministry.statistics(july, GroupBy.STATE)
    assert after.total is not None
    assert (after.total.completed, after.total.auto_closed) == (2, 1)
    roles = {
        (r["report_id"], r["verb"]): r["actor_role"]
        for r in await db.fetch("history_by_reports", [quiet.id, pulled.id])
    }
    assert roles[(quiet.id, "COMPLETE")] == "SYSTEM"
    assert roles[(pulled.id, "COMPLETE")] == "NODE_SYSTEM"
