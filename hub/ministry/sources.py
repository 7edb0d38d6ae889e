"""Where the figures come from: the roll-ups, or the raw tables for comparison.

Both sources answer the same two questions for a period and a grouping, with the
same types, so the benchmark and the tests can insist their answers are equal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import fields
from datetime import date, datetime
from typing import Protocol

import asyncpg

from hub.ministry.figures import Counts, StageFigures
from hub.ministry.period import Period, Span
from hub.store.database import Database
from schema.sla import SlaStage

StageTable = dict[str, dict[SlaStage, StageFigures]]
"""Per group key, the figures of each stage that has any."""


class FigureSource(Protocol):
    """Counts and stage figures of the reports submitted in a period, per group."""

    async def current_to(self) -> datetime:
        """Every change committed before this time is counted in what follows."""
        ...

    async def counts(
        self, period: Period, dim: str, by_month: bool, and_key: bool = False
    ) -> dict[str, Counts]:
        """Per group key, the counts of the group's reports; groups without any are left
        out. ``by_month``: the key is the month of submission (``YYYY-MM``), and with
        ``and_key`` the month and the dimension's key (``YYYY-MM <key>``)."""
        ...

    async def stages(
        self,
        period: Period,
        dim: str,
        by_month: bool,
        today: date,
        and_key: bool = False,
        only: Collection[str] | None = None,
    ) -> StageTable:
        """Per group key (as ``counts``), the compliance figures of each stage, overdue
        as of ``today``; with ``only``, of the groups whose dimension key is in it."""
        ...


def _counts(rows: list[asyncpg.Record]) -> dict[str, Counts]:
    names = [f.name for f in fields(Counts)]
    return {r["key"]: Counts(**{name: r[name] for name in names}) for r in rows}


def _stage_table(rows: list[asyncpg.Record]) -> StageTable:
    table: defaultdict[str, dict[SlaStage, StageFigures]] = defaultdict(dict)
    for r in rows:
        figures = StageFigures(
            SlaStage(r["stage"]),
            met=r["met"],
            late=r["late"],
            overdue=r["overdue"],
            pending=r["pending"],
            median_days=r["median"],
            p90_days=r["p90"],
        )
        if figures.decided or figures.pending:
            table[r["key"]][figures.stage] = figures
    return dict(table)


class RollupSource:
    """Whole months from the roll-ups, the ragged days at the ends from per-report facts."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def current_to(self) -> datetime:
        found: datetime = await self._db.fetchval("projection_current_to")
        return found

    def _args(self, period: Period, dim: str, by_month: bool, and_key: bool) -> tuple[object, ...]:
        months = period.months()
        head, tail = period.edges()
        return (
            dim,
            months.start,
            months.end,
            head.start,
            head.end,
            tail.start,
            tail.end,
            by_month,
            and_key,
        )

    async def counts(
        self, period: Period, dim: str, by_month: bool, and_key: bool = False
    ) -> dict[str, Counts]:
        args = self._args(period, dim, by_month, and_key)
        return _counts(await self._db.fetch("ministry_statistics", *args))

    async def stages(
        self,
        period: Period,
        dim: str,
        by_month: bool,
        today: date,
        and_key: bool = False,
        only: Collection[str] | None = None,
    ) -> StageTable:
        months = period.months()
        if by_month:
            # Year rows carry no month: read every whole month month by month.
            years = Span(months.start, months.start)
            before, after = months, Span(months.end, months.end)
        else:
            years = period.years()
            before, after = period.months_around_years()
        head, tail = period.edges()
        rows = await self._db.fetch(
            "ministry_sla",
            dim,
            by_month,
            today,
            *(years.start, years.end, before.start, before.end, after.start, after.end),
            *(months.start, months.end, head.start, head.end, tail.start, tail.end),
            and_key,
            None if only is None else sorted(only),
        )
        return _stage_table(rows)


class NaiveSource:
    """One GROUP BY over reports and report_history per question: the yardstick."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def current_to(self) -> datetime:
        """The raw tables are the changes themselves: current to the moment asked."""
        found: datetime = await self._db.fetchval("database_now")
        return found

    async def counts(
        self, period: Period, dim: str, by_month: bool, and_key: bool = False
    ) -> dict[str, Counts]:
        rows = await self._db.fetch(
            "ministry_naive_statistics", dim, period.start_at, period.end_at, by_month, and_key
        )
        return _counts(rows)

    async def stages(
        self,
        period: Period,
        dim: str,
        by_month: bool,
        today: date,
        and_key: bool = False,
        only: Collection[str] | None = None,
    ) -> StageTable:
        rows = await self._db.fetch(
            "ministry_naive_sla",
            *(dim, period.start_at, period.end_at, by_month, today, and_key),
            None if only is None else sorted(only),
        )
        return _stage_table(rows)
