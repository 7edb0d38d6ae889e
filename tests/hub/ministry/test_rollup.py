"""Roll-ups kept current by the write path, by bulk loads and by calendar changes."""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, timedelta

import pytest

from hub.demo.seed import seed_reports
from hub.domain.commands import (
    Archive,
    Command,
    Complete,
    Dispose,
    FollowUp,
    Postpone,
    Reopen,
    Verify,
)
from hub.ministry.bulk import deferred_rollups
from hub.ministry.calendar import CalendarStore
from hub.ministry.deadlines import DeadlineStatus, load_deadlines
from hub.ministry.figures import GroupBy
from hub.ministry.period import Period
from hub.ministry.projection import RollupProjection
from hub.ministry.queries import MinistryQueries
from hub.ministry.settings import MinistrySettings
from hub.ministry.sources import NaiveSource
from hub.store.database import Database
from hub.store.rows import ReportRow
from schema.calendar import WIB, CalendarOverride
from schema.lifecycle import ReportState
from schema.report import ArchiveReason, ComplaintSubKind, ReportKind
from schema.sla import SlaStage
from tests.hub.ministry import dataset
from tests.hub.ministry.dataset import same_figures

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=WIB)
PERIODS = (
    Period.year(2026),
    Period(date(2025, 12, 20), date(2026, 4, 9)),  # ragged days and whole months
    Period(date(2025, 11, 20), date(2027, 2, 3)),  # and a whole year between them
)
REGIONS = ("16.71", "16.04", "16.74", "16")
TARGETS = ("opd-16-pubmtr", "opd-16-dinkes", "pemda-16.71", "kl-kemendagri", "pemda-16.04")


async def assert_rollups_match_raw_tables(db: Database, now: datetime = NOW) -> None:
    settings = MinistrySettings(suppress_below=1)
    fast = MinistryQueries(db, settings, clock=lambda: now)
    slow = MinistryQueries(db, settings, source=NaiveSource(db), clock=lambda: now)
    for period in PERIODS:
        for group_by in GroupBy:
            assert same_figures(
                await fast.statistics(period, group_by), await slow.statistics(period, group_by)
            ), (period, group_by)
            assert same_figures(
                await fast.sla_compliance(period, group_by),
                await slow.sla_compliance(period, group_by),
            ), (period, group_by)
        assert same_figures(await fast.ranking(period, None), await slow.ranking(period, None))


def _next(rng: random.Random, report: ReportRow) -> Command | None:
    """A random move the life cycle allows from the report's state, or None to stop."""
    rid = report.id
    elsewhere = Dispose(rid, rng.choice(TARGETS))
    choices: dict[ReportState, list[Command]] = {
        ReportState.SUBMITTED: [
            Verify(rid),
            Postpone(rid, "Lengkapi."),
            Archive(rid, ArchiveReason.SPAM),
        ],
        ReportState.POSTPONED: [Verify(rid), Archive(rid, ArchiveReason.UNCLEAR)],
        ReportState.VERIFIED: [elsewhere, Dispose(rid, "opd-16-dinkes")],
        ReportState.DISPOSED: [FollowUp(rid, "Ditangani."), elsewhere],
        ReportState.IN_FOLLOW_UP: [Complete(rid), FollowUp(rid, "Lanjutan."), elsewhere],
        ReportState.COMPLETED: [Reopen(rid, "Belum beres.")],
        ReportState.ARCHIVED: [],
    }
    options = choices[ReportState(report.state)]
    if not options or rng.random() < 0.15:
        return None
    return rng.choice(options)


async def _random_histories(db: Database, count: int, seed: int) -> list[ReportRow]:
    """Writes random histories through the write path; the projection does not run."""
    rng = random.Random(seed)
    writer = dataset.Writer(db, project=False)
    start = datetime(2025, 12, 1, 8, 0, tzinfo=WIB)
    reports = []
    for _ in range(count):
        at = start + timedelta(hours=rng.randrange(0, 24 * 190))
        kind = rng.choice(list(ReportKind))
        extra = (
            {"sub_kind": rng.choice(list(ComplaintSubKind))} if kind is ReportKind.COMPLAINT else {}
        )
        report = await writer.submit(at, kind, rng.choice(REGIONS), **extra)
        while (command := _next(rng, report)) is not None:
            at += timedelta(hours=rng.randrange(1, 24 * 12))
            if at > NOW:
                break
            report = await writer.act(at, report, command)
        reports.append(report)
    return reports


async def test_random_histories_through_the_write_path(db: Database) -> None:
    projection = RollupProjection(db, batch=50)
    await _random_histories(db, 60, seed=1)
    await projection.catch_up()
    await assert_rollups_match_raw_tables(db)
    # More changes to the same reports and new ones: the roll-ups move with them.
    await _random_histories(db, 60, seed=2)
    await projection.catch_up()
    await assert_rollups_match_raw_tables(db)
    await assert_rollups_match_raw_tables(db, now=datetime(2026, 3, 1, tzinfo=WIB))


@pytest.mark.parametrize("deferred", [True, False], ids=["rebuilt-once", "projected"])
async def test_a_bulk_load_feeds_the_roll_ups(db: Database, deferred: bool) -> None:
    async with db.pool.acquire() as conn:
        if deferred:
            async with deferred_rollups(conn):
                await seed_reports(conn, 1_500, now=NOW)
        else:
            await seed_reports(conn, 1_500, now=NOW)
    # The seed writes no outbox rows; its reports wait for the projection in
    # ministry_pending (or the rebuild has counted them and emptied the list).
    waiting = await db.pool.fetchval("SELECT count(*) FROM ministry_pending")
    assert waiting == (0 if deferred else 1_500)
    await RollupProjection(db, batch=400).catch_up()
    await assert_rollups_match_raw_tables(db)


async def test_a_calendar_override_moves_due_days_and_figures(db: Database) -> None:
    ids = await dataset.build(db)
    store = CalendarStore(db)
    ministry = MinistryQueries(db, MinistrySettings(suppress_below=1), clock=dataset.Clock())
    year = Period.year(2026)

    async def verify_met() -> int:
        total = (await ministry.sla_compliance(year, GroupBy.KIND)).total
        assert total is not None
        return total[0].met

    async def r2_verify() -> tuple[DeadlineStatus, datetime | None]:
        found = (await load_deadlines(db, [ids["R2"]], date(2026, 4, 30)))[0]
        assert found is not None
        stage = next(s for s in found.stages if s.stage is SlaStage.VERIFY)
        return stage.status, stage.due_at

    assert await verify_met() == 2
    assert (await r2_verify())[0] is DeadlineStatus.LATE
    # A decree adds Wednesday 25 March to the Lebaran break: R2 (sent on Nyepi, verified
    # on Saturday 28 March) now had until Monday 30 March.
    result = await store.put_override(
        CalendarOverride(date(2026, 3, 25), working=False, reason="Cuti bersama tambahan")
    )
    assert result.changed_days == (date(2026, 3, 25),)
    # R1 and R2 run across 25 March, and so does R4's 60-day limit (shown, though moot).
    assert result.refreshed_reports == 3
    status, due = await r2_verify()
    assert status is DeadlineStatus.MET
    assert due is not None
    assert due.date() == date(2026, 3, 30)
    assert await verify_met() == 3
    await assert_rollups_match_raw_tables(db, now=dataset.NOW)
    await store.remove_override(date(2026, 3, 25))
    assert await verify_met() == 2
    assert (await r2_verify())[0] is DeadlineStatus.LATE
    await assert_rollups_match_raw_tables(db, now=dataset.NOW)


async def test_every_report_has_facts_once_its_history_is_written(db: Database) -> None:
    ids = await dataset.build(db)
    found = await load_deadlines(db, [*ids.values(), uuid.uuid4()], date(2026, 4, 30))
    assert [f is not None for f in found] == [True] * 6 + [False]
