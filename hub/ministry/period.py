"""A reporting period: the reports submitted in [start, end), WIB dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from hub.errors import BadInput
from schema.calendar import FIRST_DAY, LAST_DAY, WIB

MAX_DAYS = 3 * 366
"""The longest period a query may ask for: three years."""


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


@dataclass(frozen=True, slots=True)
class Span:
    """Days [start, end); empty when ``start == end``."""

    start: date
    end: date


@dataclass(frozen=True, slots=True)
class Period:
    """Reports submitted from ``start`` (inclusive) to ``end`` (exclusive), in WIB."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise BadInput(f"period.to ({self.end}) must be after period.from ({self.start})")
        if self.start < FIRST_DAY or self.end > LAST_DAY:
            raise BadInput(f"a period must lie within {FIRST_DAY} and {LAST_DAY}")
        if (self.end - self.start).days > MAX_DAYS:
            raise BadInput(f"a period may span at most {MAX_DAYS} days")

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year + 1, 1, 1))

    @property
    def start_at(self) -> datetime:
        """The first instant of the period: midnight WIB of ``start``."""
        return datetime.combine(self.start, time(), WIB)

    @property
    def end_at(self) -> datetime:
        return datetime.combine(self.end, time(), WIB)

    def months(self) -> Span:
        """The whole calendar months inside the period, as first days of months."""
        first = self.start if self.start.day == 1 else _next_month(self.start)
        last = self.end.replace(day=1)
        return Span(first, last) if first < last else Span(first, first)

    def whole_months(self) -> list[Period]:
        """Each whole calendar month inside the period, as a period of its own."""
        span = self.months()
        out: list[Period] = []
        day = span.start
        while day < span.end:
            out.append(Period(day, _next_month(day)))
            day = _next_month(day)
        return out

    def years(self) -> Span:
        """The whole calendar years inside the period, as 1 January of each."""
        months = self.months()
        first = months.start if months.start.month == 1 else date(months.start.year + 1, 1, 1)
        last = date(months.end.year, 1, 1)
        return Span(first, last) if first < last else Span(months.start, months.start)

    def months_around_years(self) -> tuple[Span, Span]:
        """The whole months before and after the whole years; with them, ``months()``."""
        months, years = self.months(), self.years()
        if years.start == years.end:
            return months, Span(months.end, months.end)
        return Span(months.start, years.start), Span(years.end, months.end)

    def edges(self) -> tuple[Span, Span]:
        """The days before and after the whole months; together with them, the period."""
        months = self.months()
        if months.start == months.end:
            return Span(self.start, self.end), Span(self.end, self.end)
        return Span(self.start, months.start), Span(months.end, self.end)
