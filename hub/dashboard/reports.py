"""The dashboard's report reads: the overdue list and one report's page, each as far as
``Viewer`` lets the reader see (the rules GraphQL applies)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from hub.api.loaders import Loaders
from hub.dashboard.access import Reader
from hub.dashboard.tables import Heading, Row, Table, View
from hub.ministry.deadlines import ReportDeadlines, load_deadlines
from hub.ministry.period import Period
from hub.ministry.queries import MinistryQueries
from hub.store.database import Database
from hub.store.rows import DispositionRow, FollowUpRow, HistoryRow, ReportRow
from schema.calendar import wib_date

OVERDUE_LIMIT = 200
"""The longest overdue list a page shows (and exports)."""
FIRST_HORIZON_DAYS = 8


def report_link(report_id: uuid.UUID) -> str:
    return f"/dashboard/reports/{report_id}"


async def overdue(
    db: Database,
    queries: MinistryQueries,
    reader: Reader,
    period: Period,
    limit: int = OVERDUE_LIMIT,
) -> View:
    today = wib_date(queries.now())
    viewer = reader.viewer
    regions = sorted(reader.regions) if reader.regions is not None else None
    # The oldest due days belong to the earliest reports: read the period from its start,
    # a horizon at a time, until the list is full or the horizon passes the period.
    days = FIRST_HORIZON_DAYS
    while True:
        horizon = period.start + timedelta(days=days)
        last = horizon >= period.end
        rows = await db.fetch(
            "dashboard_overdue",
            period.start,
            period.end,
            today,
            viewer.sees_everything,
            list(viewer.nodes),
            regions,
            limit,
            date.max if last else horizon,
        )
        if last or len(rows) >= limit:
            break
        days *= 4
    current_to = await db.fetchval("projection_current_to")
    versions = await queries.rule_versions(period)
    shown = tuple(
        Row(
            (
                str(r["id"]),
                r["title"],
                r["region_code"],
                r["region_name"],
                r["institution_name"],
                r["state"],
                r["stage"],
                r["due_day"].isoformat(),
                r["working_days_late"],
            ),
            report_link(r["id"]),
        )
        for r in rows
        if viewer.may_see_report(r["confidential"], r["nodes"])
    )
    columns = (
        "report_id",
        "title",
        "key",
        "region",
        "held_by",
        "state",
        "stage",
        "due_day",
        "working_days_late",
    )
    heading = Heading(period, current_to, versions, queries.settings.suppress_below, today)
    return View("overdue", heading, (Table("overdue", columns, shown),), note="overdue_note")


@dataclass(frozen=True, slots=True)
class ReportPage:
    report: ReportRow
    history: list[HistoryRow]
    dispositions: list[DispositionRow]
    follow_ups: list[FollowUpRow]
    deadlines: ReportDeadlines | None
    institutions: dict[str, str]
    """Names of the institutions the chain and the follow-ups name."""


async def report_page(
    db: Database, queries: MinistryQueries, reader: Reader, report_id: uuid.UUID
) -> ReportPage | None:
    """The report, or None when it is unknown, the reader may not see it (the same
    answer, as GraphQL's ``report`` gives) or it is outside a regency reader's region."""
    record = await db.fetchrow("report_by_id", report_id)
    if record is None:
        return None
    report = ReportRow.from_record(record)
    if not reader.viewer.may_see_report(report.confidential, report.nodes):
        return None
    if not (reader.sees_region(report.region_code) or reader.viewer.involved(report.nodes)):
        # A regency's dashboard is about its own region's reports (and those its
        # institutions are involved in); GraphQL remains the way to any other.
        return None
    loaders = Loaders(db)
    history = await loaders.history.load(report_id)
    dispositions = await loaders.dispositions.load(report_id)
    follow_ups = await loaders.follow_ups.load(report_id)
    [deadlines] = await load_deadlines(db, [report_id], wib_date(queries.now()))
    codes = {d.to_institution for d in dispositions} | {f.institution_code for f in follow_ups}
    codes |= {d.from_institution for d in dispositions if d.from_institution}
    names = {}
    for code in sorted(codes):
        row = await loaders.institution.load(code)
        names[code] = row.name if row else code
    return ReportPage(report, history, dispositions, follow_ups, deadlines, names)
