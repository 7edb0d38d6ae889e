"""A period splits into whole years, whole months and ragged days, covering it once."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from hub.errors import BadInput
from hub.ministry.period import Period, Span


def _days(span: Span) -> set[date]:
    return {span.start + timedelta(days=i) for i in range((span.end - span.start).days)}


@pytest.mark.parametrize(
    ("start", "end", "years", "months"),
    [
        (date(2026, 1, 1), date(2027, 1, 1), Span(date(2026, 1, 1), date(2027, 1, 1)),
         Span(date(2026, 1, 1), date(2027, 1, 1))),
        (date(2025, 11, 20), date(2027, 2, 3), Span(date(2026, 1, 1), date(2027, 1, 1)),
         Span(date(2025, 12, 1), date(2027, 2, 1))),
        (date(2026, 3, 13), date(2026, 3, 19), Span(date(2026, 4, 1), date(2026, 4, 1)),
         Span(date(2026, 4, 1), date(2026, 4, 1))),
        (date(2026, 2, 1), date(2026, 12, 31), Span(date(2026, 2, 1), date(2026, 2, 1)),
         Span(date(2026, 2, 1), date(2026, 12, 1))),
    ],
)  # fmt: skip
def test_the_parts_cover_the_period_exactly_once(
    start: date, end: date, years: Span, months: Span
) -> None:
    period = Period(start, end)
    assert period.years() == years
    assert period.months() == months
    before, after = period.months_around_years()
    head, tail = period.edges()
    parts = [_days(s) for s in (period.years(), before, after, head, tail)]
    assert sum(len(p) for p in parts) == (end - start).days
    assert set().union(*parts) == _days(Span(start, end))
    assert _days(before) | _days(after) | _days(period.years()) == _days(months)


def test_a_period_must_run_forwards_and_stay_short() -> None:
    with pytest.raises(BadInput, match="must be after"):
        Period(date(2026, 2, 1), date(2026, 2, 1))
    with pytest.raises(BadInput, match="at most"):
        Period(date(2020, 1, 1), date(2026, 1, 1))
    assert Period(date(2026, 3, 1), date(2026, 3, 2)).start_at.isoformat() == (
        "2026-03-01T00:00:00+07:00"
    )
