"""``sp4n-hub calendar``: overrides edited from the command line reach the figures."""

from __future__ import annotations

import argparse

from hub.cli.calendar import add_calendar_parser, calendar_command


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="sp4n-hub")
    add_calendar_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


async def _run(url: str, *argv: str) -> tuple[int, list[str]]:
    lines: list[str] = []
    status = await calendar_command(_parse(*argv), url, say=lines.append)
    return status, lines


async def test_set_show_and_unset_a_regional_holiday(ministry_url: str) -> None:
    status, said = await _run(
        ministry_url, "calendar", "set", "2026-06-17", "--holiday", "--reason", "HUT Palembang"
    )
    assert status == 0
    assert said == ["1 day(s) changed status, 0 renamed; recomputed 0 report(s)"]
    _, shown = await _run(ministry_url, "calendar", "show", "--year", "2026")
    assert "  2026-06-17 Wed holiday  HUT Palembang" in shown
    assert "  2026-03-20 Fri holiday  Cuti Bersama Hari Raya Idul Fitri" in shown
    assert shown[-1] == "  2026-06-17 holiday  HUT Palembang"
    _, said = await _run(ministry_url, "calendar", "unset", "2026-06-17")
    assert said == ["1 day(s) changed status, 0 renamed; recomputed 0 report(s)"]
    _, said = await _run(ministry_url, "calendar", "sync")
    assert said == ["the calendar was already in sync"]


async def test_a_working_saturday_and_a_bad_reason(ministry_url: str) -> None:
    status, said = await _run(
        ministry_url,
        "calendar",
        "set",
        "2026-03-28",
        "--working",
        "--reason",
        "Hari kerja pengganti",
    )
    assert status == 0
    assert said[0].startswith("1 day(s) changed status")
    _, shown = await _run(ministry_url, "calendar", "show", "--year", "2026")
    assert "  2026-03-28 Sat working  Hari kerja pengganti" in shown
    status, said = await _run(
        ministry_url, "calendar", "set", "2026-01-02", "--holiday", "--reason", " "
    )
    assert status == 2
    assert "reason" in said[0]
