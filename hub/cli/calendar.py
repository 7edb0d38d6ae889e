"""``sp4n-hub calendar``: show the working-day calendar, edit its overrides, sync it.

    sp4n-hub calendar show [--year 2026]
    sp4n-hub calendar set 2026-06-17 --holiday --reason "HUT Kota Palembang"
    sp4n-hub calendar set 2026-03-25 --working --reason "SKB perubahan: masuk kerja"
    sp4n-hub calendar unset 2026-06-17
    sp4n-hub calendar sync

Every edit syncs the database calendar and recomputes the SLA facts and roll-ups
of the reports the changed days touch, so the figures follow at once.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, date, datetime

from hub.ministry.calendar import CalendarStore, CalendarSync
from hub.store.database import Database
from schema.calendar import CalendarOverride, WorkingCalendar


def add_calendar_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Registers ``calendar`` and its sub-commands on the hub's sub-command parser."""
    calendar = commands.add_parser(
        "calendar", help="working days: show, override a day, sync (needs DATABASE_URL)"
    )
    actions = calendar.add_subparsers(dest="calendar_command", required=True)
    show = actions.add_parser("show", help="list the non-working weekdays and the overrides")
    show.add_argument("--year", type=int, default=None, help="default: the current year")
    put = actions.add_parser("set", help="override one day (a regional holiday, a decree)")
    put.add_argument("day", type=date.fromisoformat, help="YYYY-MM-DD")
    status = put.add_mutually_exclusive_group(required=True)
    status.add_argument("--holiday", action="store_true", help="the day is not a working day")
    status.add_argument("--working", action="store_true", help="the day is a working day")
    put.add_argument("--reason", required=True, help="e.g. the decree or the holiday's name")
    unset = actions.add_parser("unset", help="drop the override of a day")
    unset.add_argument("day", type=date.fromisoformat, help="YYYY-MM-DD")
    actions.add_parser("sync", help="resync from the holidays package and the overrides")


def _describe(result: CalendarSync) -> str:
    if not result.changed_days and not result.renamed_days:
        return "the calendar was already in sync"
    how = "rebuilt all figures" if result.rebuilt else "recomputed"
    return (
        f"{len(result.changed_days)} day(s) changed status, {result.renamed_days} renamed; "
        f"{how} {result.refreshed_reports:,} report(s)"
    )


def _show(calendar: WorkingCalendar, year: int, overrides: list[CalendarOverride]) -> list[str]:
    lines = [f"non-working weekdays and working weekend days of {year}:"]
    for d in calendar.days(date(year, 1, 1), date(year, 12, 31)):
        if d.working != (d.day.isoweekday() < 6):
            status = "working" if d.working else "holiday"
            lines.append(f"  {d.day} {d.day:%a} {status:8} {d.reason or ''}")
    lines.append("overrides:" if overrides else "no overrides")
    lines += [f"  {o.day} {'working' if o.working else 'holiday':8} {o.reason}" for o in overrides]
    return lines


async def calendar_command(
    args: argparse.Namespace, database_url: str, say: Callable[[str], None] = print
) -> int:
    """Runs ``sp4n-hub calendar ...``; returns the exit status."""
    db = Database(database_url, min_size=1, max_size=2)
    await db.open()
    try:
        store = CalendarStore(db)
        match args.calendar_command:
            case "show":
                year = args.year or datetime.now(UTC).year
                for line in _show(await store.load(), year, await store.overrides()):
                    say(line)
            case "set":
                try:
                    override = CalendarOverride(args.day, bool(args.working), args.reason)
                except ValueError as error:
                    say(f"cannot set {args.day}: {error}")
                    return 2
                say(_describe(await store.put_override(override)))
            case "unset":
                say(_describe(await store.remove_override(args.day)))
            case "sync":
                say(_describe(await store.sync()))
        return 0
    finally:
        await db.close()
