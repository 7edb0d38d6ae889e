"""What a view shows and exports: its heading (period, rule versions, current to) and
its tables of figures. The pages render them; the exports write them as they are."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from hub.ministry.figures import Counts, StageFigures
from hub.ministry.period import Period

Cell = str | int | float | None
"""None: suppressed or not defined (no stage decided yet)."""

COUNT_COLUMNS = (
    "received",
    "verified",
    "disposed",
    "followed_up",
    "completed",
    "archived",
    "auto_closed",
)
STAGE_COLUMNS = (
    "within_limit_share",
    "met",
    "late",
    "overdue_count",
    "pending",
    "median_days",
    "p90_days",
)
SHARES = {
    "within_limit_share",
    "completed_within_limit",
    "completion_within_limit",
    "verify_within_limit",
    "completed_share",
    "score",
}


@dataclass(frozen=True, slots=True)
class Row:
    cells: tuple[Cell, ...]
    link: str | None = None
    """A dashboard page about this row (a region, a report)."""
    suppressed: bool = False


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    """Its text key and, in exports, its sheet name."""
    columns: tuple[str, ...]
    """Text keys; in exports, the column names."""
    rows: tuple[Row, ...]


@dataclass(frozen=True, slots=True)
class Heading:
    """What every view states: which reports, judged by which rules, counted until when."""

    period: Period
    current_to: datetime
    rule_versions: tuple[str, ...]
    suppress_below: int
    as_of: date | None = None


@dataclass(frozen=True, slots=True)
class View:
    name: str
    heading: Heading
    tables: tuple[Table, ...]
    tiles: tuple[Tile, ...] = field(default=())
    note: str | None = None
    """A text key shown above the tables."""


@dataclass(frozen=True, slots=True)
class Tile:
    """One region on the tile map; ``value`` None when suppressed, not the reader's, or
    with nothing to measure (a share of no reports)."""

    code: str
    name: str
    value: float | None
    link: str | None
    suppressed: bool = False
    """Its group is under the suppression threshold (so its value is None)."""


def counts_cells(counts: Counts | None) -> tuple[Cell, ...]:
    if counts is None:
        return (None,) * len(COUNT_COLUMNS)
    return tuple(getattr(counts, name) for name in COUNT_COLUMNS)


def stage_cells(figures: StageFigures | None) -> tuple[Cell, ...]:
    if figures is None:
        return (None,) * len(STAGE_COLUMNS)
    return (
        figures.within_limit_share,
        figures.met,
        figures.late,
        figures.overdue,
        figures.pending,
        figures.median_days,
        figures.p90_days,
    )
