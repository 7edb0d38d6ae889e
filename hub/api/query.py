"""The query root: reference data, reports by id or reference, and report pages."""

from __future__ import annotations

import uuid

import asyncpg
import strawberry

from hub.api import directory
from hub.api.context import Info
from hub.api.directory import InstitutionConnection, InstitutionFilter
from hub.api.pagination import (
    FilterArgs,
    PageInfo,
    ReportConnection,
    ReportEdge,
    ReportFilter,
    check_first,
    decode_cursor,
    encode_cursor,
)
from hub.api.types import (
    DuplicateCandidate,
    Node,
    Region,
    Report,
    ReviewItem,
    Topic,
)
from hub.domain.institutions import DirectoryFilter
from hub.errors import BadInput, Forbidden
from hub.ministry.graphql import MinistryQuery
from hub.store.rows import NodeRow, RegionRow, ReportRow, ReviewRow, TopicRow


async def _visible(info: Info, record: asyncpg.Record | None) -> Report | None:
    return visible(info, None if record is None else ReportRow.from_record(record))


def visible(info: Info, row: ReportRow | None) -> Report | None:
    """The report, unless it is confidential and the caller is not involved."""
    if row is None or not info.context.viewer.may_see_report(row.confidential, row.nodes):
        return None
    return Report.from_row(row)


def parse_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise BadInput(f"{value!r} is not a report id") from None


@strawberry.type
class Query(MinistryQuery):
    @strawberry.field(description="The province and its 17 kabupaten/kota.")
    async def regions(self, info: Info) -> list[Region]:
        rows = await info.context.db.rows(RegionRow, "list_regions")
        return [Region.from_row(r) for r in rows]

    @strawberry.field(description="The 19 federation members.")
    async def nodes(self, info: Info) -> list[Node]:
        rows = await info.context.db.rows(NodeRow, "list_nodes")
        return [Node.from_row(r) for r in rows]

    @strawberry.field(
        description="Pulled changes waiting for an admin, oldest first (admins only)."
    )
    async def review_queue(self, info: Info, first: int = 50) -> list[ReviewItem]:
        if not info.context.principal.is_admin:
            raise Forbidden("the review queue is for the province's admins")
        check_first(first, info.context.settings.limits.max_page_size)
        rows = await info.context.db.rows(ReviewRow, "open_reviews", first)
        return [ReviewItem.from_row(r) for r in rows]

    @strawberry.field(
        description="Pairs of open reports of one region that may be one complaint, best "
        "first; the later one came in the last 90 days, at most withinDays after the "
        "earlier (admins only)."
    )
    async def duplicate_candidates(
        self, info: Info, first: int = 20, min_score: float = 0.5, within_days: int = 14
    ) -> list[DuplicateCandidate]:
        if not info.context.principal.is_admin:
            raise Forbidden("duplicate candidates are for the province's admins")
        check_first(first, info.context.settings.limits.max_page_size)
        found = await info.context.duplicates.candidates(
            first=first, min_score=min_score, within_days=within_days
        )
        return [
            DuplicateCandidate(
                original=Report.from_row(c.original),
                duplicate=Report.from_row(c.duplicate),
                score=c.score,
                title_score=c.title_score,
                content_score=c.content_score,
                distance_km=c.distance_km,
            )
            for c in found
        ]

    @strawberry.field(
        description="The institutions reports can be addressed to, by code, as a Relay "
        "connection: the national ministries, the province's perangkat daerah, every "
        "kabupaten/kota's government and its own dinas and badan."
    )
    async def institutions(
        self,
        info: Info,
        filter: InstitutionFilter | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> InstitutionConnection:
        check_first(first, info.context.settings.limits.max_page_size)
        where = filter.where() if filter is not None else DirectoryFilter()
        start = directory.decode_cursor(after) if after else None
        page = await info.context.institutions.page(where, first, start)
        return InstitutionConnection.of(page, where, after)

    @strawberry.field(description="The topic tree, flattened; follow parent for the hierarchy.")
    async def topics(self, info: Info) -> list[Topic]:
        rows = await info.context.db.rows(TopicRow, "list_topics")
        return [Topic.from_row(r) for r in rows]

    @strawberry.field(description="A report; null when unknown or not visible to the caller.")
    async def report(self, info: Info, id: strawberry.ID) -> Report | None:
        report_id = parse_id(id)
        info.context.reads.report(report_id)
        row = await info.context.db.fetchrow("report_by_id", report_id)
        return await _visible(info, row)

    @strawberry.field(description="A report by the id a node's own system gave it.")
    async def report_by_ref(self, info: Info, node: str, external_id: str) -> Report | None:
        row = await info.context.db.fetchrow("report_by_ref", node, external_id)
        return await _visible(info, row)

    @strawberry.field(description="Reports, newest first, as a Relay connection.")
    async def reports(
        self,
        info: Info,
        filter: ReportFilter | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> ReportConnection:
        check_first(first, info.context.settings.limits.max_page_size)
        args = FilterArgs.from_input(filter, info.context.viewer)
        cursor = decode_cursor(after) if after else (None, None)
        rows = await info.context.db.fetch("reports_page", *args.params(), *cursor, first + 1)
        info.context.reads.page(args, (r["id"] for r in rows))
        edges = [
            ReportEdge(
                cursor=encode_cursor(r["submitted_at"], r["id"]),
                node=Report.from_row(ReportRow.from_record(r)),
            )
            for r in rows[:first]
        ]
        page = PageInfo.of([e.cursor for e in edges], len(rows) > first, after)
        return ReportConnection(edges=edges, page_info=page, filter=args)
