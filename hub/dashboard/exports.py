"""A view's figures as CSV or XLSX: every table, under the view's heading.

CSV repeats the heading (period, time zone, current to, rule versions, suppression
threshold) on every row, as ``hub.ministry.export`` does, so a row cut from the file
still says what it is; the XLSX file has a sheet ``info`` with the heading and one sheet
per table. Files are named ``<view>-<from>-<to>.<csv|xlsx>``.
"""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook

from hub.dashboard.tables import Cell, Heading, View

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_HEAD = (
    "period_from",
    "period_to",
    "time_zone",
    "current_to",
    "rule_versions",
    "suppress_below",
    "as_of",
)


def filename(view: View, fmt: str, suffix: str = "") -> str:
    p = view.heading.period
    return f"{view.name}{suffix}-{p.start.isoformat()}-{p.end.isoformat()}.{fmt}"


def _head(h: Heading) -> tuple[Cell, ...]:
    return (
        h.period.start.isoformat(),
        h.period.end.isoformat(),
        "Asia/Jakarta",
        h.current_to.isoformat(),
        ";".join(h.rule_versions),
        h.suppress_below,
        h.as_of.isoformat() if h.as_of else None,
    )


def as_csv(view: View) -> str:
    """One CSV of every table: the heading, the table's name, whether the row is
    suppressed, then the table's own columns (tables side by side in one header)."""
    columns: list[str] = []
    for table in view.tables:
        columns += [c for c in table.columns if c not in columns]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*_HEAD, "table", "suppressed", *columns])
    head = _head(view.heading)
    for table in view.tables:
        for row in table.rows:
            cells = dict(zip(table.columns, row.cells, strict=True))
            writer.writerow([*head, table.name, row.suppressed, *(cells.get(c) for c in columns)])
    return out.getvalue()


def as_xlsx(view: View) -> bytes:
    book = Workbook()
    info = book.active
    assert info is not None  # a new workbook has one sheet
    info.title = "info"
    info.append(["view", view.name])
    for name, value in zip(_HEAD, _head(view.heading), strict=True):
        info.append([name, value])
    for table in view.tables:
        sheet = book.create_sheet(table.name[:31])
        sheet.append(["suppressed", *table.columns])
        for row in table.rows:
            sheet.append([row.suppressed, *row.cells])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
