"""Indonesian working days, due days and working days taken, in WIB.

Definitions (the SLA engine in ``hub.ministry`` and the database calendar of
migration 0005 follow them to the letter):

- **Working day**: a calendar date in Asia/Jakarta (WIB, +07:00), Monday to
  Friday (Perpres 21/2023), that is neither a national holiday nor cuti bersama
  (the ``holidays`` package, country ``ID``, categories ``public`` and
  ``government``). An override (a regional holiday, a decree moving a day) wins
  over the package, in both directions.
- **Due day**: a limit of N working days from a start instant falls on the Nth
  working day after the start's WIB date, and the due time is the end of that
  day (23:59:59.999999 WIB). The start date is day 0 whatever it is, so a report
  sent on a Friday evening or on a holiday starts counting on the next working day.
- **Working days taken** from a start to an end: 0 while no working day lies in
  (start date, end date]; otherwise the number of working days in that interval,
  plus one when the end falls on a non-working day (work done on a Saturday counts
  as done on the next working day). So an end is within a limit N exactly when
  the working days taken are at most N, exactly when it is no later than the due
  time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

WIB = ZoneInfo("Asia/Jakarta")
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)
"""The span the database calendar covers; dates outside it have no due day."""
HOLIDAY_CATEGORIES = ("public", "government")
"""``government`` adds cuti bersama to the national holidays."""
HOLIDAY_LANGUAGE = "id"
"""Holiday names in Indonesian (the package's default for Indonesia is English)."""


@dataclass(frozen=True, slots=True)
class CalendarOverride:
    """A day whose status a regional holiday or a decree change sets by hand."""

    day: date
    working: bool
    reason: str

    def __post_init__(self) -> None:
        if not FIRST_DAY <= self.day <= LAST_DAY:
            raise ValueError(f"{self.day} is outside the calendar ({FIRST_DAY}..{LAST_DAY})")
        if not 1 <= len(self.reason.strip()) <= 200:
            raise ValueError("an override needs a reason of 1 to 200 characters")


@dataclass(frozen=True, slots=True)
class CalendarDay:
    day: date
    working: bool
    reason: str | None
    """Why the day differs from a plain weekday or weekend day, if it does."""


def national_holidays(years: Iterable[int]) -> dict[date, str]:
    """National holidays and cuti bersama of ``years``, from the ``holidays`` package,
    named in Indonesian as the people who read the calendar name them."""
    found = holidays.country_holidays(
        "ID", years=list(years), categories=HOLIDAY_CATEGORIES, language=HOLIDAY_LANGUAGE
    )
    return {day: str(name) for day, name in sorted(found.items())}


def wib_date(instant: datetime) -> date:
    """The WIB calendar date of an aware instant."""
    if instant.tzinfo is None:
        raise ValueError("instants need a time zone")
    return instant.astimezone(WIB).date()


def end_of_day(day: date) -> datetime:
    """The last instant of ``day`` in WIB: a due time."""
    return datetime.combine(day, time.max, WIB)


class WorkingCalendar:
    """Working days of the Indonesian civil service, overrides applied."""

    def __init__(
        self, holidays: Mapping[date, str], overrides: Iterable[CalendarOverride] = ()
    ) -> None:
        self._holidays = dict(holidays)
        self._overrides = {o.day: o for o in overrides}

    @classmethod
    def indonesia(
        cls, years: Iterable[int], overrides: Iterable[CalendarOverride] = ()
    ) -> WorkingCalendar:
        return cls(national_holidays(years), overrides)

    def is_working(self, day: date) -> bool:
        override = self._overrides.get(day)
        if override is not None:
            return override.working
        return day.isoweekday() < 6 and day not in self._holidays

    def reason(self, day: date) -> str | None:
        override = self._overrides.get(day)
        if override is not None:
            return override.reason
        return self._holidays.get(day)

    def working_day_after(self, day: date, n: int) -> date:
        """The ``n``-th working day after ``day`` (``n`` ≥ 1)."""
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        current = day
        while n:
            current += timedelta(days=1)
            if current > LAST_DAY:
                raise ValueError(f"no {n} more working days after {day} in the calendar")
            if self.is_working(current):
                n -= 1
        return current

    def due_day(self, start: datetime, working_days: int) -> date:
        """The working day a limit of ``working_days`` from ``start`` ends on."""
        return self.working_day_after(wib_date(start), working_days)

    def due_at(self, start: datetime, working_days: int) -> datetime:
        """The due time: the end of the due day in WIB."""
        return end_of_day(self.due_day(start, working_days))

    def working_days_taken(self, start: datetime, end: datetime) -> int:
        """Working days from ``start`` to ``end`` as the module docstring defines them."""
        first, last = wib_date(start), wib_date(end)
        if last < first:
            raise ValueError(f"the end {end} is before the start {start}")
        count = sum(
            1
            for offset in range(1, (last - first).days + 1)
            if self.is_working(first + timedelta(days=offset))
        )
        if count == 0:
            return 0
        return count if self.is_working(last) else count + 1

    def days(self, first: date = FIRST_DAY, last: date = LAST_DAY) -> Iterator[CalendarDay]:
        """Every day of [first, last] with its status, for loading the database calendar."""
        day = first
        while day <= last:
            yield CalendarDay(day, self.is_working(day), self.reason(day))
            day += timedelta(days=1)
