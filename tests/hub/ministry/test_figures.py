"""Every figure against the six reports of ``dataset``, worked out by hand."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from hub.ministry.figures import Counts, GroupBy, StageFigures
from hub.ministry.period import Period
from hub.ministry.queries import MinistryQueries
from hub.ministry.settings import MinistrySettings
from hub.ministry.sources import NaiveSource
from hub.store.database import Database
from schema.institutions import InstitutionLevel
from schema.sla import SlaStage
from tests.hub.ministry import dataset
from tests.hub.ministry.dataset import same_figures

YEAR = Period.year(2026)
V, F, C = SlaStage.VERIFY, SlaStage.FIRST_FOLLOW_UP, SlaStage.COMPLETION


@pytest.fixture
async def reports(db: Database) -> dict[str, uuid.UUID]:
    return await dataset.build(db)


def service(db: Database, suppress_below: int = 1, *, naive: bool = False) -> MinistryQueries:
    return MinistryQueries(
        db,
        MinistrySettings(suppress_below=suppress_below),
        source=NaiveSource(db) if naive else None,
        clock=dataset.Clock(),
    )


@pytest.mark.usefixtures("reports")
async def test_statistics_by_region(db: Database) -> None:
    stats = await service(db).statistics(YEAR, GroupBy.REGION)
    groups = {g.key: g for g in stats.groups}
    assert groups["16.71"].label == "Palembang"
    assert groups["16.71"].counts == Counts(
        received=3, anonymous=1, verified=3, disposed=2, followed_up=2, completed=2
    )
    assert groups["16.04"].counts == Counts(
        received=3,
        anonymous=1,
        confidential=1,
        verified=1,
        disposed=1,
        followed_up=1,
        archived=1,
        redisposed=1,
        redispositions=1,
    )
    assert stats.total == Counts(
        received=6,
        anonymous=2,
        confidential=1,
        verified=4,
        disposed=3,
        followed_up=3,
        completed=2,
        archived=1,
        redisposed=1,
        redispositions=1,
    )
    assert stats.rule_versions == ("2018-62",)


@pytest.mark.usefixtures("reports")
async def test_statistics_by_state_month_institution_and_kind(db: Database) -> None:
    ministry = service(db)

    async def received(group_by: GroupBy) -> dict[str, int]:
        stats = await ministry.statistics(YEAR, group_by)
        return {g.key: g.counts.received for g in stats.groups if g.counts}

    assert await received(GroupBy.STATE) == {
        "ARCHIVED": 1,
        "COMPLETED": 1,
        "IN_FOLLOW_UP": 2,
        "SUBMITTED": 1,
        "VERIFIED": 1,
    }
    assert await received(GroupBy.MONTH) == {"2026-01": 2, "2026-02": 1, "2026-03": 2, "2026-04": 1}
    # Counted where they are now: R5 came back from Dinkes.
    assert await received(GroupBy.INSTITUTION) == {
        "opd-16-pubmtr": 1,
        "pemda-16.04": 3,
        "pemda-16.71": 2,
    }
    assert await received(GroupBy.KIND) == {
        "ASPIRATION": 2,
        "COMPLAINT": 3,
        "INFORMATION_REQUEST": 1,
    }
    labels = {g.key: g.label for g in (await ministry.statistics(YEAR, GroupBy.STATE)).groups}
    assert labels["IN_FOLLOW_UP"] == "Ditindaklanjuti"


@pytest.mark.usefixtures("reports")
async def test_a_period_counts_reports_submitted_from_its_first_day_to_before_its_last(
    db: Database,
) -> None:
    ministry = service(db)
    # R1 (13 March), R2 (19 March): the ragged days of a period come from the facts.
    march = await ministry.statistics(Period(date(2026, 3, 13), date(2026, 3, 19)), GroupBy.KIND)
    assert march.total is not None
    assert march.total.received == 1
    spring = await ministry.statistics(Period(date(2026, 2, 11), date(2026, 4, 28)), GroupBy.KIND)
    assert spring.total is not None
    assert spring.total.received == 3


@pytest.mark.usefixtures("reports")
async def test_sla_compliance_per_stage(db: Database) -> None:
    sla = await service(db).sla_compliance(YEAR, GroupBy.REGION)
    assert sla.as_of == date(2026, 4, 30)
    assert sla.total == (
        # R1 1, R5 0 met; R2 4, R6 5 late; R3 pending; R4 not applicable.
        StageFigures(V, met=2, late=2, pending=1, median_days=1, p90_days=5),
        # R5 2, R6 1 met; R1 6 late.
        StageFigures(F, met=2, late=1, median_days=2, p90_days=6),
        # R1 14 met; R6 7 late; R2 and R5 overdue; R3 pending.
        StageFigures(C, met=1, late=1, overdue=2, pending=1, median_days=7, p90_days=14),
    )
    assert sla.total[0].within_limit_share == 0.5
    assert sla.total[2].within_limit_share == 0.25
    groups = {g.key: g.stages for g in sla.groups}
    assert groups["16.04"] == (
        StageFigures(V, met=1, pending=1, median_days=0, p90_days=0),
        StageFigures(F, met=1, median_days=2, p90_days=2),
        StageFigures(C, overdue=1, pending=1),
    )


@pytest.mark.usefixtures("reports")
async def test_running_stages_become_overdue_after_their_due_day(db: Database) -> None:
    ministry = service(db)
    ministry_next_week = MinistryQueries(
        db,
        MinistrySettings(suppress_below=1),
        clock=lambda: dataset.wib(5, 6, 9),
    )
    now = await ministry.sla_compliance(YEAR, GroupBy.KIND)
    later = await ministry_next_week.sla_compliance(YEAR, GroupBy.KIND)
    info_now = {g.key: g.stages for g in now.groups}["INFORMATION_REQUEST"]
    info_later = {g.key: g.stages for g in later.groups}["INFORMATION_REQUEST"]
    assert info_now is not None
    assert info_later is not None
    assert (info_now[0].pending, info_now[0].overdue) == (1, 0)  # due Thu 30 April
    assert (info_later[0].pending, info_later[0].overdue) == (0, 1)
    assert (info_later[2].pending, info_later[2].overdue) == (0, 1)  # due Tue 5 May


@pytest.mark.usefixtures("reports")
async def test_ranking_of_institutions(db: Database) -> None:
    ranking = await service(db).ranking(YEAR, None)
    assert [(e.rank, e.code, e.score) for e in ranking.entries] == [
        (1, "opd-16-pubmtr", 0.75),  # (1 + 0 + 1 + 1) / 4
        (2, "pemda-16.04", 0.5),  # (1 + 1 + 0 + 0) / 4
        (3, "pemda-16.71", 0.375),  # (0 + 1 + 0 + 0.5) / 4
    ]
    lahat = ranking.entries[1]
    assert lahat.verified_within_limit == 1.0
    assert lahat.completed_within_limit == 0.0
    assert lahat.archived_or_redisposed_share == pytest.approx(2 / 3)
    assert lahat.anonymous_share == pytest.approx(1 / 3)
    assert lahat.confidential_share == pytest.approx(1 / 3)
    assert lahat.median_verify_days == 0
    assert lahat.redispositions == 1
    assert ranking.entries[2].median_verify_days == 4
    regencies = await service(db).ranking(YEAR, InstitutionLevel.REGENCY_GOVERNMENT)
    assert [e.code for e in regencies.entries] == ["pemda-16.04", "pemda-16.71"]


@pytest.mark.usefixtures("reports")
async def test_small_groups_are_suppressed(db: Database) -> None:
    by_kind = await service(db, suppress_below=2).statistics(YEAR, GroupBy.KIND)
    shown = {g.key: g.counts.received if g.counts else None for g in by_kind.groups}
    # One information request alone is too few; the aspirations are withheld with it,
    # or total minus complaints would give it away.
    assert shown == {"ASPIRATION": None, "COMPLAINT": 3, "INFORMATION_REQUEST": None}
    assert by_kind.total is not None
    assert by_kind.total.received == 6
    default = await service(db, suppress_below=5).sla_compliance(YEAR, GroupBy.REGION)
    assert all(g.stages is None for g in default.groups)
    assert default.total is not None
    ranking = await service(db, suppress_below=3).ranking(YEAR, None)
    assert [(e.code, e.rank, e.suppressed, e.received, e.score) for e in ranking.entries] == [
        ("pemda-16.04", 1, False, 3, 0.5),
        ("opd-16-pubmtr", None, True, None, None),
        ("pemda-16.71", None, True, None, None),
    ]
    nothing = await service(db, suppress_below=7).statistics(YEAR, GroupBy.MONTH)
    assert nothing.total is None


@pytest.mark.usefixtures("reports")
@pytest.mark.parametrize("group_by", list(GroupBy))
async def test_the_roll_ups_agree_with_the_raw_tables(db: Database, group_by: GroupBy) -> None:
    for period in (YEAR, Period(date(2026, 1, 14), date(2026, 3, 20))):
        fast, slow = service(db), service(db, naive=True)
        assert same_figures(
            await fast.statistics(period, group_by), await slow.statistics(period, group_by)
        )
        assert same_figures(
            await fast.sla_compliance(period, group_by),
            await slow.sla_compliance(period, group_by),
        )
