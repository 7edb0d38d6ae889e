"""Working days of 2026 against the official list; due days and working days taken."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schema.calendar import (
    WIB,
    CalendarOverride,
    WorkingCalendar,
    national_holidays,
    wib_date,
)

# SKB 3 Menteri 2026 (Menteri Agama, Menteri Ketenagakerjaan, MenPAN-RB), written out
# by hand: 17 national holidays and 8 days of cuti bersama.
NATIONAL_2026 = {
    date(2026, 1, 1),  # Tahun Baru 2026 Masehi
    date(2026, 1, 16),  # Isra Mikraj Nabi Muhammad SAW
    date(2026, 2, 17),  # Tahun Baru Imlek 2577 Kongzili
    date(2026, 3, 19),  # Hari Suci Nyepi, Tahun Baru Saka 1948
    date(2026, 3, 21),  # Idul Fitri 1447 H
    date(2026, 3, 22),  # Idul Fitri 1447 H
    date(2026, 4, 3),  # Wafat Yesus Kristus
    date(2026, 4, 5),  # Kebangkitan Yesus Kristus (Paskah)
    date(2026, 5, 1),  # Hari Buruh Internasional
    date(2026, 5, 14),  # Kenaikan Yesus Kristus
    date(2026, 5, 27),  # Idul Adha 1447 H
    date(2026, 5, 31),  # Hari Raya Waisak 2570 BE
    date(2026, 6, 1),  # Hari Lahir Pancasila
    date(2026, 6, 16),  # 1 Muharam, Tahun Baru Islam 1448 H
    date(2026, 8, 17),  # Hari Kemerdekaan Republik Indonesia
    date(2026, 8, 25),  # Maulid Nabi Muhammad SAW
    date(2026, 12, 25),  # Hari Raya Natal
}
CUTI_BERSAMA_2026 = {
    date(2026, 2, 16),  # Imlek
    date(2026, 3, 18),  # Nyepi
    date(2026, 3, 20),  # Idul Fitri
    date(2026, 3, 23),  # Idul Fitri
    date(2026, 3, 24),  # Idul Fitri
    date(2026, 5, 15),  # Kenaikan Yesus Kristus
    date(2026, 5, 28),  # Idul Adha
    date(2026, 12, 24),  # Natal
}


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return WorkingCalendar.indonesia(range(2025, 2028))


def wib(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=WIB)


def test_the_package_lists_the_official_2026_holidays_and_cuti_bersama() -> None:
    found = national_holidays([2026])
    assert len(NATIONAL_2026) == 17
    assert len(CUTI_BERSAMA_2026) == 8
    assert set(found) == NATIONAL_2026 | CUTI_BERSAMA_2026
    public = holidays.country_holidays("ID", years=2026, categories=("public",))
    assert set(public) == NATIONAL_2026


def test_holidays_are_named_in_indonesian() -> None:
    """Regency staff read the calendar (``sp4n-hub calendar show``, the SLA reasons) in
    Indonesian: the package's default for Indonesia is English."""
    found = national_holidays([2026])
    assert found[date(2026, 8, 17)] == "Hari Kemerdekaan Republik Indonesia"
    assert found[date(2026, 3, 21)] == "Hari Raya Idul Fitri"
    assert found[date(2026, 12, 24)] == "Cuti Bersama Hari Raya Natal"
    assert not [name for name in found.values() if "Day" in name or "Eid" in name]


def test_2026_has_the_working_days_of_the_civil_service(calendar: WorkingCalendar) -> None:
    days = list(calendar.days(date(2026, 1, 1), date(2026, 12, 31)))
    weekdays_off = [d.day for d in days if not d.working and d.day.isoweekday() < 6]
    # Four of the 25 days fall on a weekend; 21 weekdays are off.
    assert len(weekdays_off) == 21
    assert sum(d.working for d in days) == 261 - 21
    assert not calendar.is_working(date(2026, 3, 20))  # cuti bersama, a Friday
    assert calendar.reason(date(2026, 3, 19)) == "Hari Suci Nyepi"
    assert calendar.is_working(date(2026, 3, 25))


def test_due_day_skips_a_weekend(calendar: WorkingCalendar) -> None:
    # Submitted on a Wednesday: Thursday, Friday, then Monday is the third working day.
    assert calendar.due_day(wib(2026, 7, 8, 10, 0), 3) == date(2026, 7, 13)
    assert calendar.due_at(wib(2026, 7, 8, 10, 0), 3) == datetime.combine(
        date(2026, 7, 13), datetime.max.time(), WIB
    )


def test_a_report_sent_on_the_friday_evening_before_idul_fitri(calendar: WorkingCalendar) -> None:
    # Friday 13 March 2026, 19:30 WIB: Monday 16 and Tuesday 17 are working days, then
    # cuti bersama (18, 20, 23, 24), Nyepi (19) and Idul Fitri (21, 22) close the offices
    # until Wednesday 25.
    sent = wib(2026, 3, 13, 19, 30)
    assert calendar.due_day(sent, 3) == date(2026, 3, 25)
    assert calendar.due_day(sent, 5) == date(2026, 3, 27)
    # Fourteen working days: Good Friday (3 April) is skipped too.
    assert calendar.due_day(sent, 14) == date(2026, 4, 10)
    # Sent on the Friday of cuti bersama itself (20 March), counting starts on the 25th.
    assert calendar.due_day(wib(2026, 3, 20, 19, 0), 3) == date(2026, 3, 27)


def test_the_wib_date_decides_not_the_utc_date(calendar: WorkingCalendar) -> None:
    # 17:30 UTC on Thursday 12 March is already Friday 13 March, 00:30 WIB.
    late = datetime.fromisoformat("2026-03-12T17:30:00+00:00")
    assert wib_date(late) == date(2026, 3, 13)
    assert calendar.due_day(late, 1) == date(2026, 3, 16)


def test_working_days_taken(calendar: WorkingCalendar) -> None:
    friday = wib(2026, 3, 13, 19, 30)
    assert calendar.working_days_taken(friday, wib(2026, 3, 13, 22, 0)) == 0
    assert calendar.working_days_taken(friday, wib(2026, 3, 14, 9, 0)) == 0  # Saturday
    assert calendar.working_days_taken(friday, wib(2026, 3, 16, 9, 0)) == 1
    # Done during the Lebaran break: counts as done on Wednesday 25, the third day.
    assert calendar.working_days_taken(friday, wib(2026, 3, 21, 9, 0)) == 3
    assert calendar.working_days_taken(friday, wib(2026, 3, 25, 23, 0)) == 3
    assert calendar.working_days_taken(friday, wib(2026, 4, 10, 8, 0)) == 14
    with pytest.raises(ValueError, match="before the start"):
        calendar.working_days_taken(friday, wib(2026, 3, 12, 9, 0))


def test_overrides_win_over_the_package() -> None:
    overrides = [
        CalendarOverride(date(2026, 6, 17), working=False, reason="HUT Kota Palembang"),
        CalendarOverride(date(2026, 3, 24), working=True, reason="cuti bersama dibatalkan"),
    ]
    calendar = WorkingCalendar.indonesia([2026], overrides)
    assert not calendar.is_working(date(2026, 6, 17))
    assert calendar.reason(date(2026, 6, 17)) == "HUT Kota Palembang"
    assert calendar.is_working(date(2026, 3, 24))
    # Tuesday 16 June is 1 Muharam; with the 17th off, Monday 15 to Thursday 18 is one day.
    assert calendar.due_day(wib(2026, 6, 15, 9, 0), 1) == date(2026, 6, 18)
    assert calendar.due_day(wib(2026, 3, 13, 19, 30), 3) == date(2026, 3, 24)
    with pytest.raises(ValueError, match="reason"):
        CalendarOverride(date(2026, 1, 2), working=False, reason=" ")


@settings(max_examples=300, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 31)),
    hours=st.integers(min_value=0, max_value=24 * 120),
    limit=st.integers(min_value=1, max_value=60),
)
def test_within_the_limit_exactly_when_not_after_the_due_time(
    calendar: WorkingCalendar, start: datetime, hours: int, limit: int
) -> None:
    begin = start.replace(tzinfo=WIB)
    end = begin + timedelta(hours=hours)
    taken = calendar.working_days_taken(begin, end)
    assert (taken <= limit) == (end <= calendar.due_at(begin, limit))
