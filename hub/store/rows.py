"""Rows of the index as plain typed values, so no driver type leaks upward.

``typed(RowClass, record)`` builds a row from a record's columns by name (their
order does not matter), each column whose field is an enum as that enum; the
``Database`` and ``Session`` hand rows out that way (``rows``, ``row``).
"""

from __future__ import annotations

import enum
import types
import typing
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, TypeVar

import asyncpg

from hub.domain.core import Entry, NewReport
from schema.institutions import InstitutionLevel
from schema.nodes import NodeLevel
from schema.regions import RegionType

T = TypeVar("T")


def typed(cls: type[T], record: asyncpg.Record | Mapping[str, Any]) -> T:
    """A ``cls`` from the record's columns of its fields' names, enums as enums."""
    columns = _COLUMNS.get(cls)
    if columns is None:
        hints = typing.get_type_hints(cls)
        columns = _COLUMNS[cls] = tuple(
            (f.name, _converter(hints[f.name])) for f in fields(typing.cast(Any, cls))
        )
    return cls(**{name: convert(record[name]) for name, convert in columns})


_COLUMNS: dict[type, tuple[tuple[str, Callable[[Any], Any]], ...]] = {}
"""Each row class's fields and how each column becomes its value, worked out once."""


def _same(value: Any) -> Any:
    return value


def _converter(hint: Any) -> Callable[[Any], Any]:
    """The enum a column's text becomes, None staying None; anything else as it is."""
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    kinds = [o for o in options if isinstance(o, type) and issubclass(o, enum.Enum)]
    if not kinds:
        return _same
    kind = kinds[0]
    return lambda value: None if value is None else kind(value)


@dataclass(frozen=True, slots=True)
class ReportRow(NewReport):
    """A report as ``report_index`` shows it: its own columns (``NewReport``'s, the one
    list of them), then its region's and institution's."""

    region_bps_code: str
    region_name: str
    region_type: RegionType
    region_parent_code: str | None
    institution_name: str
    institution_level: InstitutionLevel
    institution_node_code: str
    institution_region_code: str | None
    institution_active: bool
    institution_source: str | None

    @property
    def region(self) -> RegionRow:
        return RegionRow(
            self.region_code,
            self.region_bps_code,
            self.region_name,
            self.region_type,
            self.region_parent_code,
        )

    @property
    def institution(self) -> InstitutionRow:
        return InstitutionRow(
            self.institution_code,
            self.institution_name,
            self.institution_level,
            self.institution_node_code,
            self.institution_region_code,
            self.institution_active,
            self.institution_source,
        )

    @classmethod
    def from_record(cls, r: asyncpg.Record) -> ReportRow:
        """From a record holding report_index's columns (among others), by name."""
        return typed(cls, r)


HistoryRow = Entry
"""A row of ``report_history``: as the domain core decides it, so as it is read back."""


@dataclass(frozen=True, slots=True)
class DispositionRow:
    report_id: uuid.UUID
    seq: int
    from_institution: str | None
    to_institution: str
    note: str | None
    actor_node: str
    at: datetime
    declined: bool


@dataclass(frozen=True, slots=True)
class FollowUpRow:
    report_id: uuid.UUID
    id: int
    institution_code: str
    content: str
    actor_node: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ExternalRefRow:
    report_id: uuid.UUID
    node_code: str
    external_id: str


@dataclass(frozen=True, slots=True)
class RegionRow:
    code: str
    bps_code: str
    name: str
    type: RegionType
    parent_code: str | None


@dataclass(frozen=True, slots=True)
class NodeRow:
    code: str
    name: str
    level: NodeLevel
    region_code: str | None


@dataclass(frozen=True, slots=True)
class InstitutionRow:
    code: str
    name: str
    level: InstitutionLevel
    node_code: str
    region_code: str | None
    active: bool
    """False: deactivated; it keeps its history and takes no new report."""
    source: str | None
    """Where the row comes from: the seed's source, or the admin who added it."""


@dataclass(frozen=True, slots=True)
class TopicRow:
    id: int
    parent_id: int | None
    name: str


@dataclass(frozen=True, slots=True)
class ReporterRow:
    report_id: uuid.UUID
    name: str | None
    nik: str | None
    phone: str | None
    email: str | None


@dataclass(frozen=True, slots=True)
class ReplyRow:
    report_id: uuid.UUID
    id: int
    content: str
    actor_node: str
    at: datetime


@dataclass(frozen=True, slots=True)
class RatingRow:
    report_id: uuid.UUID
    score: int
    comment: str | None
    institution_code: str
    actor_node: str
    at: datetime


@dataclass(frozen=True, slots=True)
class DuplicateRow:
    report_id: uuid.UUID
    original_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class ReviewRow:
    """An item of the review queue: a pulled change the hub held, and how it ended."""

    id: int
    node_code: str
    external_id: str
    external_version: str
    raw_state: str
    reason: str
    report_id: uuid.UUID | None
    received_at: datetime
    resolved_at: datetime | None
    resolution: str | None
    resolution_note: str | None
    resolved_by: str | None
