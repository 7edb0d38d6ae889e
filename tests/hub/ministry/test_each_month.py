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
