"""Rows of the index as plain typed values, so no driver type leaks upward."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import datetime

import asyncpg

from hub.domain.core import Entry, NewReport


@dataclass(frozen=True, slots=True)
class ReportRow(NewReport):
    """A report as ``report_index`` shows it: its own columns (``NewReport``'s, the one
    list of them), then its region's and institution's."""

    region_bps_code: str
    region_name: str
    region_type: str
    region_parent_code: str | None
    institution_name: str
    institution_level: str
    institution_node_code: str
    institution_region_code: str | None

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
        )

    @classmethod
    def from_record(cls, r: asyncpg.Record) -> ReportRow:
        return cls(*r.values())

    @classmethod
    def from_columns(cls, r: asyncpg.Record) -> ReportRow:
        """From a record holding report_index's columns among others, by name."""
        return cls(**{name: r[name] for name in _REPORT_FIELDS})


_REPORT_FIELDS = tuple(f.name for f in fields(ReportRow))


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
    type: str
    parent_code: str | None


@dataclass(frozen=True, slots=True)
class NodeRow:
    code: str
    name: str
    level: str
    region_code: str | None


@dataclass(frozen=True, slots=True)
class InstitutionRow:
    code: str
    name: str
    level: str
    node_code: str
    region_code: str | None


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
