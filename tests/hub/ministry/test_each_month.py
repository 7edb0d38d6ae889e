"""A region's months in one read: each month's answers, exactly as asking each month."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from hub.demo.seed import seed_reports
from hub.ministry.bulk import deferred_rollups
from hub.ministry.figures import GroupBy
from hub.ministry.period import Period
from hub.ministry.queries import MinistryQueries
from hub.ministry.settings import MinistrySettings
from hub.ministry.sources import NaiveSource
from hub.store.database import Database
from schema.calendar import WIB

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=WIB)


async def test_each_months_answers_are_those_of_asking_each_month(db: Database) -> None:
    async with db.pool.acquire() as conn, deferred_rollups(conn):
        await seed_reports(conn, 1_500, now=NOW)
    queries = MinistryQueries(db, MinistrySettings(), clock=lambda: NOW)
    # A ragged start and end: only the whole months between count, as month by month.
    period = Period(date(2025, 7, 10), date(2026, 6, 20))
    months = period.whole_months()
    assert [m.start for m in months][:2] == [date(2025, 8, 1), date(2025, 9, 1)]
    assert months[-1] == Period(date(2026, 5, 1), date(2026, 6, 1))

    answers = await queries.each_month(period, GroupBy.REGION)

    assert len(answers) == len(months) == 10
    shown = hidden = 0
    for month, (statistics, sla) in zip(months, answers, strict=True):
        assert statistics == await queries.statistics(month, GroupBy.REGION)
        assert sla == await queries.sla_compliance(month, GroupBy.REGION)
        shown += sum(g.counts is not None for g in statistics.groups)
        hidden += sum(g.counts is None for g in statistics.groups)
    # Both sides of the suppression were compared.
    assert shown
    assert hidden
    # The raw tables' GROUP BY agrees (bar the time each is current to).
    naive = MinistryQueries(db, MinistrySettings(), source=NaiveSource(db), clock=lambda: NOW)
    for (s, c), (ns, nc) in zip(
        answers, await naive.each_month(period, GroupBy.REGION), strict=True
    ):
        assert replace(ns, current_to=s.current_to) == s
        assert replace(nc, current_to=c.current_to) == c


async def test_a_regions_months_are_its_groups_of_all_regions_months(db: Database) -> None:
    """``only`` (a regency's trend) keeps those groups as the full answer has them, the
    suppression decided among all regions, from both sources."""
    async with db.pool.acquire() as conn, deferred_rollups(conn):
        await seed_reports(conn, 1_500, now=NOW)
    period = Period(date(2025, 7, 1), date(2026, 6, 1))
    queries = MinistryQueries(db, MinistrySettings(), clock=lambda: NOW)
    naive = MinistryQueries(db, MinistrySettings(), source=NaiveSource(db), clock=lambda: NOW)
    every = await queries.each_month(period, GroupBy.REGION)
    # A region with stage figures shown in some month and suppressed in another.
    shown = {g.key for _, c in every for g in c.groups if g.stages is not None}
    hidden = {g.key for _, c in every for g in c.groups if g.stages is None}
    region = sorted(shown & hidden)[0]
    only = {region, "16.99"}  # a region without reports has no group at all

    for source in (queries, naive):
        mine = await source.each_month(period, GroupBy.REGION, only=only)
        assert len(mine) == len(every) == 11
        for (s, c), (full_s, full_c) in zip(mine, every, strict=True):
            assert [g.key for g in c.groups] == [region]
            assert s.groups == tuple(g for g in full_s.groups if g.key == region)
            assert c.groups == tuple(g for g in full_c.groups if g.key == region)
            assert c.total == full_c.total
