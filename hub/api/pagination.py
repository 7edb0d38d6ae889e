"""Relay cursor pagination over the report index (newest first)."""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import datetime

import strawberry

from hub.api.context import Info
from hub.api.types import Report
from hub.errors import BadInput
from hub.security.privacy import Viewer
from schema import lifecycle, report


def encode_cursor(submitted_at: datetime, report_id: uuid.UUID) -> str:
    raw = f"{submitted_at.isoformat()}|{report_id}".encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        at, _, rid = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(at), uuid.UUID(rid)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadInput("after is not a cursor this API issued") from None


@strawberry.input(description="Every given condition must hold.")
class ReportFilter:
    region_code: str | None = None
    institution_code: str | None = strawberry.field(
        default=None, description="The institution currently handling the report."
    )
    state: lifecycle.ReportState | None = None
    kind: report.ReportKind | None = None
    submitted_from: datetime | None = strawberry.field(default=None, description="Inclusive.")
    submitted_to: datetime | None = strawberry.field(default=None, description="Exclusive.")
    title_contains: str | None = strawberry.field(
        default=None, description="Case-insensitive substring of the title."
    )


@dataclass(frozen=True, slots=True)
class FilterArgs:
    """The SQL parameters of a filter, in the order the named queries take them."""

    region: str | None
    institution: str | None
    state: str | None
    kind: str | None
    since: datetime | None
    until: datetime | None
    title_pattern: str | None
    viewer: Viewer

    @classmethod
    def from_input(cls, f: ReportFilter | None, viewer: Viewer) -> FilterArgs:
        if f is None:
            return cls(None, None, None, None, None, None, None, viewer)
        for name, value in (("submittedFrom", f.submitted_from), ("submittedTo", f.submitted_to)):
            if value is not None and value.tzinfo is None:
                raise BadInput(f"filter.{name} needs a UTC offset, e.g. 2026-01-31T00:00:00+07:00")
        pattern = None
        if f.title_contains is not None:
            if len(f.title_contains) > 200:
                raise BadInput("filter.titleContains is longer than 200 characters")
            escaped = f.title_contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern = f"%{escaped}%"
        state = lifecycle.ReportState(f.state).value if f.state else None
        kind = report.ReportKind(f.kind).value if f.kind else None
        return cls(
            f.region_code,
            f.institution_code,
            state,
            kind,
            f.submitted_from,
            f.submitted_to,
            pattern,
            viewer,
        )

    def params(self) -> tuple[object, ...]:
        return (
            self.region,
            self.institution,
            self.state,
            self.kind,
            self.since,
            self.until,
            self.title_pattern,
            # Confidential reports only for those involved (privacy.py).
            self.viewer.sees_everything,
            sorted(self.viewer.nodes),
        )


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None

    @classmethod
    def of(cls, cursors: list[str], has_next: bool, after: str | None) -> PageInfo:
        """A forward page's info: its edges' cursors, whether more follow, where it began."""
        return cls(
            has_next_page=has_next,
            has_previous_page=after is not None,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        )


def check_first(first: int, limit: int) -> None:
    """Refuses a page size outside 1..``limit``."""
    if not 1 <= first <= limit:
        raise BadInput(f"first must be between 1 and {limit}, got {first}")


@strawberry.type
class ReportEdge:
    cursor: str
    node: Report


@strawberry.type(description="A page of reports, newest first.")
class ReportConnection:
    edges: list[ReportEdge]
    page_info: PageInfo
    filter: strawberry.Private[FilterArgs]

    @strawberry.field(description="How many reports match the filter, over all pages.")
    async def total_count(self, info: Info) -> int:
        count: int = await info.context.db.fetchval("reports_count", *self.filter.params())
        return count
