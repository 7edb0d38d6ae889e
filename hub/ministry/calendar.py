"""The database calendar: national holidays, cuti bersama and overrides, kept in sync.

The ``holidays`` package and the override table decide which days are working
days; ``ministry_calendar`` holds the result for the SQL that computes due days
and working days taken. ``sync`` brings the table in line (at start, after an
override changes, after a package upgrade moves an estimated Islamic date) and
recomputes the SLA facts and roll-ups of the reports the changed days touch.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import date

from hub.store.database import Database
from schema.calendar import FIRST_DAY, LAST_DAY, CalendarOverride, WorkingCalendar

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CalendarSync:
    """What a sync changed."""

    changed_days: tuple[date, ...]
    """Days whose working status changed (reason-only changes are not listed)."""
    renamed_days: int
    refreshed_reports: int
    rebuilt: bool
    """True when every report was recomputed in one pass instead of one by one."""


def _default(day: date) -> tuple[bool, str | None]:
    return day.isoweekday() < 6, None


class CalendarStore:
    """Reads and edits the overrides; syncs ``ministry_calendar`` with them and the package."""

    def __init__(
        self, db: Database, *, refresh_batch: int = 2_000, rebuild_above: int = 50_000
    ) -> None:
        self._db = db
        self._refresh_batch = refresh_batch
        self._rebuild_above = rebuild_above

    async def overrides(self) -> list[CalendarOverride]:
        rows = await self._db.fetch("ministry_overrides")
        return [CalendarOverride(r["day"], r["working"], r["reason"]) for r in rows]

    async def put_override(self, override: CalendarOverride) -> CalendarSync:
        """Adds or replaces the override of a day, then syncs."""
        await self._execute(
            "ministry_override_put", override.day, override.working, override.reason.strip()
        )
        return await self.sync()

    async def remove_override(self, day: date) -> CalendarSync:
        await self._execute("ministry_override_delete", day)
        return await self.sync()

    async def load(self) -> WorkingCalendar:
        """The calendar as the package and the overrides define it now."""
        overrides = await self.overrides()
        years = range(FIRST_DAY.year, LAST_DAY.year + 1)
        # The package computes a century of Islamic dates: keep the event loop free.
        return await asyncio.to_thread(WorkingCalendar.indonesia, years, overrides)

    async def sync(self) -> CalendarSync:
        """Writes the days that differ, renumbers, and recomputes the reports they touch."""
        calendar = await self.load()
        wanted = {
            d.day: (d.working, d.reason)
            for d in calendar.days()
            if (d.working, d.reason) != _default(d.day)
        }
        have = {
            r["day"]: (r["working"], r["reason"])
            for r in await self._db.fetch("ministry_calendar_exceptions")
        }
        updates = [
            (day, *wanted.get(day, _default(day)))
            for day in sorted(wanted.keys() | have.keys())
            if wanted.get(day, _default(day)) != have.get(day, _default(day))
        ]
        if not updates:
            return CalendarSync((), 0, 0, rebuilt=False)
        changed = tuple(
            day for day, working, _ in updates if working != have.get(day, _default(day))[0]
        )
        async with self._db.transaction() as session:
            await session.executemany("ministry_calendar_set", updates)
            if changed:
                await session.execute("ministry_calendar_renumber")
        refreshed, rebuilt = (0, False)
        if changed:
            refreshed, rebuilt = await self._recompute(changed[0], changed[-1])
        _log.info(
            "calendar synced: %d working-day changes, %d renamed days, %d reports recomputed",
            len(changed),
            len(updates) - len(changed),
            refreshed,
        )
        return CalendarSync(changed, len(updates) - len(changed), refreshed, rebuilt)

    async def rebuild(self) -> int:
        """Recomputes every report's facts and every roll-up in one transaction."""
        async with self._db.transaction() as session:
            await session.execute("ministry_rebuild")
            count: int = await session.fetchval("ministry_facts_count")
            return count

    async def _execute(self, query: str, *args: object) -> None:
        async with self._db.session() as session:
            await session.execute(query, *args)

    async def _recompute(self, first: date, last: date) -> tuple[int, bool]:
        rows = await self._db.fetch("ministry_affected_reports", first, last)
        ids: list[uuid.UUID] = [r["report_id"] for r in rows]
        if len(ids) > self._rebuild_above:
            return await self.rebuild(), True
        for start in range(0, len(ids), self._refresh_batch):
            batch = ids[start : start + self._refresh_batch]
            async with self._db.transaction() as session:
                await session.execute("ministry_refresh", batch)
        return len(ids), False
