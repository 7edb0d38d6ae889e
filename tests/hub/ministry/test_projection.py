"""The roll-ups as a projection of committed changes: equal to the naive GROUP BY
after any interleaving of writes, bulk loads and crashes of the projector."""

from __future__ import annotations

import asyncio
import contextlib
import random
from datetime import datetime, timedelta

import asyncpg

from hub.demo.seed import seed_reports
from hub.domain.commands import Verify
from hub.errors import HubError
from hub.ministry.projection import RollupProjection
from hub.store.database import Database
from hub.store.rows import ReportRow
from schema.calendar import WIB
from schema.report import ReportKind
from tests.hub.ministry import dataset
from tests.hub.ministry.test_rollup import NOW, REGIONS, _next, assert_rollups_match_raw_tables


async def _report(db: Database, report_id: object) -> ReportRow:
    row = await db.fetchrow("report_by_id", report_id)
    assert row is not None
    return ReportRow.from_record(row)


async def _writer(db: Database, rng: random.Random, reports: list[ReportRow], moves: int) -> None:
    """Moves random reports along the life cycle, and submits new ones."""
    writer = dataset.Writer(db, project=False)
    at = datetime(2026, 1, 5, 8, 0, tzinfo=WIB)
    for _ in range(moves):
        at += timedelta(minutes=rng.randrange(1, 600))
        if rng.random() < 0.2:
            kind = rng.choice(list(ReportKind))
            reports.append(await writer.submit(min(at, NOW), kind, rng.choice(REGIONS)))
            continue
        index = rng.randrange(len(reports))
        report = await _report(db, reports[index].id)
        command = _next(rng, report)
        if command is None:
            continue
        # Another writer may move it first (VERSION_CONFLICT): their change wins.
        with contextlib.suppress(HubError):
            reports[index] = await writer.act(min(at, NOW), report, command)
        await asyncio.sleep(0)


async def _crashing_projector(db: Database, rng: random.Random, done: asyncio.Event) -> int:
    """Runs passes and kills them at random moments, each time starting a new projector
    (a process that lost what it remembered); returns how many passes it killed."""
    killed = 0
    while not done.is_set():
        projection = RollupProjection(db, batch=rng.choice([3, 10, 50]))
        task = asyncio.create_task(projection.project())
        await asyncio.sleep(rng.uniform(0, 0.02))
        if not task.done():
            task.cancel()
            killed += 1
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return killed


async def test_writes_bulk_loads_and_projector_crashes_leave_the_roll_ups_exact(
    db: Database,
) -> None:
    rng = random.Random(7)
    async with db.pool.acquire() as conn:
        # A bulk load: no outbox rows, its reports listed for the projection instead.
        await seed_reports(conn, 300, now=NOW)
    rows = await db.pool.fetch("SELECT id FROM reports ORDER BY id")
    reports = [await _report(db, r["id"]) for r in rows[:80]]
    done = asyncio.Event()
    crasher = asyncio.create_task(_crashing_projector(db, rng, done))
    await asyncio.gather(*(_writer(db, random.Random(seed), reports, 60) for seed in range(3)))
    done.set()
    killed = await crasher
    assert killed > 0  # the interleaving did include crashes
    await RollupProjection(db, batch=25).catch_up()
    await assert_rollups_match_raw_tables(db)
    assert await db.pool.fetchval("SELECT count(*) FROM ministry_pending") == 0


async def test_a_change_committed_late_by_an_old_transaction_is_projected(db: Database) -> None:
    """A transaction that began before a pass and commits after it wrote its outbox row
    with an id and a transaction id below what the pass saw: the next pass still
    counts it (a cursor on the row id, or on the newest transaction, would skip it)."""
    writer = dataset.Writer(db, project=False)
    early = await writer.submit(datetime(2026, 3, 2, 9, 0, tzinfo=WIB), ReportKind.COMPLAINT, "16")
    projection = RollupProjection(db)
    await projection.catch_up()

    blocker = await asyncpg.connect(db.url)
    try:
        # Holding the topic row makes the next write wait inside its transaction, after
        # it took its transaction id and wrote its rows, for its foreign-key check.
        blocking = blocker.transaction()
        await blocking.start()
        await blocker.execute("SELECT 1 FROM topics WHERE id = 301 FOR UPDATE")
        slow_writer = dataset.Writer(db, project=False)
        slow = asyncio.create_task(
            slow_writer.submit(datetime(2026, 3, 3, 9, 0, tzinfo=WIB), ReportKind.COMPLAINT, "16")
        )
        for _ in range(1000):
            waiting = await db.pool.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND datname = current_database()"
            )
            if waiting:
                break
            await asyncio.sleep(0.01)
        assert waiting, "the slow write never waited on the held row"
        # Later transactions commit meanwhile, and a pass sees them.
        later = dataset.Writer(db, project=False)
        await later.act(datetime(2026, 3, 4, 9, 0, tzinfo=WIB), early, Verify(early.id))
        assert await projection.project() is True
        await blocking.rollback()
    finally:
        await blocker.close()
    await slow
    assert await projection.project() is True
    await assert_rollups_match_raw_tables(db)
