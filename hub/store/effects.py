"""The domain core's decided effects as the store writes them: the one place that
turns a ``NewReport`` or a history ``Entry`` into column values, and the one
Python writer that COPYs history rows (the demo seed's bulk load).

The per-change write path inserts through ``submission_write`` and
``transition_write`` (``sql/reports.sql``), the initial import through its
staging tables (``sql/initial_sync.sql``); nothing else writes ``report_history``
or ``outbox`` (``tests/test_architecture.py``).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import fields
from typing import Any

from hub.domain.core import Entry, NewReport
from hub.store.connection import Connection
from hub.store.rows import ReportRow, typed

REPORT_COLUMNS = tuple(f.name for f in fields(NewReport))
"""The columns of ``reports``, in the order ``submission_write`` takes them."""
HISTORY_COLUMNS = tuple(f.name for f in fields(Entry))
"""The columns of ``report_history`` a writer fills."""
INDEX_COLUMNS = tuple(f.name for f in fields(ReportRow))[len(REPORT_COLUMNS) :]
"""What ``report_index`` adds to a report's own columns (its region and institution)."""


def report_values(report: NewReport) -> tuple[object, ...]:
    """The row's values in ``REPORT_COLUMNS`` order, each enum as the text it is stored as.

    Read field by field: ``dataclasses.astuple`` deep-copies every value (a report's
    lists, ids and times), which cost the initial import most of its planning time."""
    values = [getattr(report, name) for name in REPORT_COLUMNS]
    return tuple(v.value if isinstance(v, enum.Enum) else v for v in values)


def entry_values(entry: Entry) -> tuple[object, ...]:
    """The history row's values in ``HISTORY_COLUMNS`` order (no deep copy, as above)."""
    return tuple(getattr(entry, name) for name in HISTORY_COLUMNS)


def indexed(report: NewReport, reference: Mapping[str, Any]) -> ReportRow:
    """The report as ``report_index`` shows it, its region's and institution's columns
    taken from ``reference`` (a record naming them as the view does)."""
    own: dict[str, Any] = {name: getattr(report, name) for name in REPORT_COLUMNS}
    return typed(ReportRow, {**own, **{name: reference[name] for name in INDEX_COLUMNS}})


async def copy_reports(conn: Connection, reports: Iterable[NewReport]) -> None:
    """COPYs decided reports into ``reports``."""
    rows = [report_values(r) for r in reports]
    if rows:
        await conn.copy_records_to_table("reports", records=rows, columns=REPORT_COLUMNS)


async def copy_history(conn: Connection, entries: Iterable[Entry]) -> None:
    """COPYs decided history rows into ``report_history``."""
    rows = [entry_values(e) for e in entries]
    if rows:
        await conn.copy_records_to_table("report_history", records=rows, columns=HISTORY_COLUMNS)
