"""GraphQL object types. Resolvers stay thin: fields come from rows, relations from loaders."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import strawberry

from connectors.resilience import CircuitState
from hub.api.context import Info
from hub.api.copying import copied
from hub.domain.review import ReviewAction
from hub.errors import Forbidden
from hub.ministry.graphql import StageDeadlineType, report_deadlines, report_overdue
from hub.security.privacy import IDENTITY_FIELDS
from hub.store.rows import (
    DispositionRow,
    ExternalRefRow,
    FollowUpRow,
    HistoryRow,
    InstitutionRow,
    NodeRow,
    RatingRow,
    RegionRow,
    ReplyRow,
    ReportRow,
    ReviewRow,
    TopicRow,
)
from schema import institutions, lifecycle, nodes, regions, report


@strawberry.type(description="A kabupaten/kota or the province, with both official codes.")
class Region:
    code: str = strawberry.field(description="Kemendagri code, e.g. 16.71 (the primary key).")
    bps_code: str = strawberry.field(description="BPS code, e.g. 1671; differs for five regencies.")
    name: str
    type: regions.RegionType

    @classmethod
    def from_row(cls, row: RegionRow) -> Region:
        return copied(cls, row)


@strawberry.type(description="A file attached to a report, as its node serves it.")
class Attachment:
    ref: str
    name: str
    media_type: str
    url: str
    size: int | None


@strawberry.type(description="How a node's connector is doing.")
class NodeHealth:
    healthy: bool
    consecutive_failures: int
    last_success_at: datetime | None
    last_error_at: datetime | None


@strawberry.type(description="A change a node showed that the hub would not guess at.")
class ReviewItem:
    id: strawberry.ID
    node_code: str
    external_id: str
    external_version: str
    raw_state: str = strawberry.field(description="The status label as the node shows it.")
    reason: str
    report_id: strawberry.ID | None
    received_at: datetime
    resolved_at: datetime | None = strawberry.field(description="Null while it waits.")
    resolution: ReviewAction | None = strawberry.field(
        description="APPLY: the change was applied; DISMISS: it was not, for the note's reason."
    )
    resolution_note: str | None
    resolved_by: str | None = strawberry.field(description="The admin's client id.")

    @classmethod
    def from_row(cls, r: ReviewRow) -> ReviewItem:
        return copied(
            cls,
            r,
            id=strawberry.ID(str(r.id)),
            report_id=strawberry.ID(str(r.report_id)) if r.report_id else None,
            resolution=ReviewAction(r.resolution) if r.resolution else None,
        )


@strawberry.type(description="Two reports that may be one complaint (admins only).")
class DuplicateCandidate:
    original: Report = strawberry.field(description="The earlier report.")
    duplicate: Report = strawberry.field(description="The later report.")
    score: float = strawberry.field(
        description="0..1: title 0.5, content 0.3, place 0.2 (without both coordinates "
        "title and content make it up)."
    )
    title_score: float
    content_score: float
    distance_km: float | None = strawberry.field(
        description="Between the two places; null when either has no coordinates."
    )


@strawberry.type(description="How the hub reaches a node's system (operators only).")
class NodeConnector:
    kind: str = strawberry.field(
        description="The connector kind of the node table: open311, rest, graphql, lapor, "
        "postgres or push."
    )
    endpoint: str | None = strawberry.field(
        description="Scheme, host, port and path the connector calls; never credentials "
        "or a query string. Null when the node table names none (a push node without a "
        "webhook)."
    )
    poll_interval_seconds: float = strawberry.field(
        description="Seconds between pulls (a push node is never pulled)."
    )


@strawberry.type(description="A federation member: a regency, the province or SP4N-LAPOR!.")
class Node:
    code: str
    name: str
    level: nodes.NodeLevel
    region_code: strawberry.Private[str | None]

    @strawberry.field
    async def region(self, info: Info) -> Region | None:
        return await _region(info, self.region_code)

    @strawberry.field(
        description="Events this node's sink has not read yet; null when this hub runs no sink."
    )
    def lag(self, info: Info) -> int | None:
        sync = info.context.sync
        return sync.lag(self.code) if sync else None

    @strawberry.field(
        description="Whether the node's connector is healthy (its circuit closed, its last "
        "call a success); null when this hub runs no connector for the node."
    )
    def health(self, info: Info) -> NodeHealth | None:
        federation = info.context.federation
        if federation is None or self.code not in federation.connectors:
            return None
        health = federation[self.code].health
        return NodeHealth(
            healthy=health.healthy,
            consecutive_failures=health.consecutive_failures,
            last_success_at=health.last_success_at,
            last_error_at=health.last_error_at,
        )

    @strawberry.field(
        description="The node's circuit breaker: CLOSED, OPEN (calls are not attempted) or "
        "HALF_OPEN; null when this hub runs no connector for the node."
    )
    def circuit(self, info: Info) -> CircuitState | None:
        federation = info.context.federation
        if federation is None or self.code not in federation.connectors:
            return None
        return federation[self.code].health.circuit

    @strawberry.field(
        description="Which connector serves the node, where it calls and how often it "
        "pulls; null when this hub runs no connector for the node. Province admins only."
    )
    def connector(self, info: Info) -> NodeConnector | None:
        if not info.context.principal.is_admin:
            raise Forbidden("connector details are for the province's admins")
        federation = info.context.federation
        if federation is None or self.code not in federation.connectors:
            return None
        config = federation[self.code].config
        return NodeConnector(
            kind=config.kind,
            endpoint=config.endpoint,
            poll_interval_seconds=config.poll_interval,
        )

    @strawberry.field(description="When the hub last applied a page pulled from this node.")
    async def last_pulled_at(self, info: Info) -> datetime | None:
        return await info.context.loaders.pulled_at.load(self.code)

    @classmethod
    def from_row(cls, row: NodeRow) -> Node:
        return copied(cls, row)


@strawberry.type(description="An institution that can receive a disposition.")
class Institution:
    code: str
    name: str
    level: institutions.InstitutionLevel
    active: bool = strawberry.field(
        description="False: deactivated; it keeps its reports and takes no new ones."
    )
    source: str | None = strawberry.field(
        description="Where the entry comes from: the seed list's source, or who added it."
    )
    node_code: strawberry.Private[str]
    region_code: strawberry.Private[str | None]

    @strawberry.field
    async def node(self, info: Info) -> Node | None:
        row = await info.context.loaders.node.load(self.node_code)
        return Node.from_row(row) if row else None

    @strawberry.field
    async def region(self, info: Info) -> Region | None:
        return await _region(info, self.region_code)

    @classmethod
    def from_row(cls, row: InstitutionRow) -> Institution:
        return copied(cls, row)


@strawberry.type(description="A node of the topic tree (kategori).")
class Topic:
    id: int
    name: str
    parent_id: int | None

    @strawberry.field
    async def parent(self, info: Info) -> Topic | None:
        if self.parent_id is None:
            return None
        row = await info.context.loaders.topic.load(self.parent_id)
        return Topic.from_row(row) if row else None

    @classmethod
    def from_row(cls, row: TopicRow) -> Topic:
        return copied(cls, row)


@strawberry.type(description="One recorded state change of a report.")
class HistoryEntry:
    version: int
    verb: lifecycle.Verb
    from_state: lifecycle.ReportState | None
    to_state: lifecycle.ReportState
    actor_node: str
    actor_role: report.ActorRole
    note: str | None
    at: datetime

    @classmethod
    def from_row(cls, r: HistoryRow) -> HistoryEntry:
        return copied(
            cls,
            r,
            verb=lifecycle.Verb(r.verb),
            from_state=lifecycle.ReportState(r.from_state) if r.from_state else None,
            to_state=lifecycle.ReportState(r.to_state),
            actor_role=report.ActorRole(r.actor_role),
        )


@strawberry.type(description="A link of the append-only disposition chain.")
class Disposition:
    seq: int
    from_institution_code: str | None
    to_institution_code: str
    note: str | None
    actor_node: str
    at: datetime
    declined: bool = strawberry.field(
        description="A decline (Bukan Wewenang): the institution that had the report sent "
        "it back to the one that forwarded it; the note says why."
    )

    @strawberry.field
    async def to_institution(self, info: Info) -> Institution | None:
        return await _institution(info, self.to_institution_code)

    @classmethod
    def from_row(cls, r: DispositionRow) -> Disposition:
        return copied(
            cls, r, from_institution_code=r.from_institution, to_institution_code=r.to_institution
        )


@strawberry.type(description="A follow-up (tindak lanjut) posted by the handling institution.")
class FollowUp:
    institution_code: str
    content: str
    actor_node: str
    at: datetime

    @classmethod
    def from_row(cls, r: FollowUpRow) -> FollowUp:
        return copied(cls, r)


@strawberry.type(description="The reporter's answer to a follow-up (no identity of its own).")
class Reply:
    content: str
    actor_node: str = strawberry.field(description="The node the answer came through.")
    at: datetime

    @classmethod
    def from_row(cls, r: ReplyRow) -> Reply:
        return copied(cls, r)


@strawberry.type(description="The reporter's satisfaction with the completed report.")
class Rating:
    score: int = strawberry.field(description="1 (poor) to 5 (very good).")
    comment: str | None
    institution_code: str = strawberry.field(description="Who handled it when rated.")
    at: datetime

    @classmethod
    def from_row(cls, r: RatingRow) -> Rating:
        return copied(cls, r)


@strawberry.type(description="The id a node's own system gives the report (opaque).")
class ExternalRef:
    node: str
    external_id: str

    @classmethod
    def from_row(cls, r: ExternalRefRow) -> ExternalRef:
        return cls(node=r.node_code, external_id=r.external_id)


@strawberry.type(description="Reporter identity: personal data, shown only as privacy allows.")
class Reporter:
    name: str | None
    nik: str | None
    phone: str | None
    email: str | None


@strawberry.type(description="A citizen's report, as held in the hub's canonical index.")
class Report:
    id: strawberry.ID
    kind: report.ReportKind
    complaint_sub_kind: report.ComplaintSubKind | None
    title: str
    content: str
    incident_date: date | None
    location: str | None
    latitude: float | None
    longitude: float | None
    tags: list[str]
    channel: report.Channel
    anonymous: bool
    confidential: bool
    state: lifecycle.ReportState
    archive_reason: report.ArchiveReason | None
    version: int = strawberry.field(description="Pass it back as expectedVersion.")
    sla_rule_version: str
    submitted_at: datetime
    updated_at: datetime
    origin_node_code: str
    region_code: str
    institution_code: str
    topic_id: int
    state_label: str = strawberry.field(description="The Indonesian label of the state.")
    region: Region = strawberry.field(description="Where the reported matter happened.")
    institution: Institution = strawberry.field(
        description="The institution currently handling the report."
    )
    uuid: strawberry.Private[uuid.UUID]
    involved_nodes: strawberry.Private[tuple[str, ...]]
    deadlines: list[StageDeadlineType] = strawberry.field(
        resolver=report_deadlines,
        description="Every SLA stage: its due time (end of the Nth working day, WIB), "
        "status and working days taken.",
    )
    overdue: bool = strawberry.field(
        resolver=report_overdue,
        description="A stage (verify, first follow-up, completion) runs past its due time.",
    )

    @strawberry.field(
        description="Who reported it, as far as the caller may see (privacy flags); "
        "every read is audited."
    )
    async def reporter(self, info: Info) -> Reporter | None:
        ctx = info.context
        row = await ctx.loaders.reporter.load(self.uuid)
        if row is None:
            return None
        viewer = ctx.viewer
        allowed = viewer.identity_fields(self.anonymous, self.confidential, self.involved_nodes)
        if not allowed:
            return None
        await ctx.audit.record(
            client_id=ctx.principal.client_id,
            node_code=ctx.principal.node_code,
            action="READ_IDENTITY",
            report_id=self.uuid,
            outcome="GRANTED:" + ",".join(allowed),
        )
        return Reporter(**{f: getattr(row, f) if f in allowed else None for f in IDENTITY_FIELDS})

    @strawberry.field
    async def origin_node(self, info: Info) -> Node | None:
        row = await info.context.loaders.node.load(self.origin_node_code)
        return Node.from_row(row) if row else None

    @strawberry.field
    async def topic(self, info: Info) -> Topic | None:
        row = await info.context.loaders.topic.load(self.topic_id)
        return Topic.from_row(row) if row else None

    @strawberry.field(description="Every state change, oldest first.")
    async def history(self, info: Info) -> list[HistoryEntry]:
        return [
            HistoryEntry.from_row(r) for r in await info.context.loaders.history.load(self.uuid)
        ]

    @strawberry.field(description="The disposition chain, oldest link first.")
    async def dispositions(self, info: Info) -> list[Disposition]:
        rows = await info.context.loaders.dispositions.load(self.uuid)
        return [Disposition.from_row(r) for r in rows]

    @strawberry.field
    async def follow_ups(self, info: Info) -> list[FollowUp]:
        rows = await info.context.loaders.follow_ups.load(self.uuid)
        return [FollowUp.from_row(r) for r in rows]

    @strawberry.field(description="The reporter's answers to follow-ups, oldest first.")
    async def replies(self, info: Info) -> list[Reply]:
        rows = await info.context.loaders.replies.load(self.uuid)
        return [Reply.from_row(r) for r in rows]

    @strawberry.field(description="The reporter's rating once completed; null until rated.")
    async def rating(self, info: Info) -> Rating | None:
        row = await info.context.loaders.rating.load(self.uuid)
        return Rating.from_row(row) if row else None

    @strawberry.field(
        description="The report this one duplicates (it was archived as DUPLICATE); null "
        "when it is no duplicate."
    )
    async def duplicate_of(self, info: Info) -> strawberry.ID | None:
        row = await info.context.loaders.duplicate.load(self.uuid)
        return strawberry.ID(str(row.original_id)) if row else None

    @strawberry.field
    async def external_refs(self, info: Info) -> list[ExternalRef]:
        rows = await info.context.loaders.external_refs.load(self.uuid)
        return [ExternalRef.from_row(r) for r in rows]

    @strawberry.field(
        description="Attachments, read live from the node the report came from; null when "
        "this hub has no connector for that node. When the node is down this field alone "
        "fails, with extensions {source, code, retryable}."
    )
    async def attachments(self, info: Info) -> list[Attachment] | None:
        federation = info.context.federation
        if federation is None or self.origin_node_code not in federation.connectors:
            return None
        refs = await info.context.loaders.external_refs.load(self.uuid)
        own = next((r for r in refs if r.node_code == self.origin_node_code), None)
        if own is None:
            return []
        found = await info.context.loaders.attachments.load((own.node_code, own.external_id))
        return [
            Attachment(ref=a.ref, name=a.name, media_type=a.media_type, url=a.url, size=a.size)
            for a in found
        ]

    @classmethod
    def from_row(cls, r: ReportRow) -> Report:
        return cls(
            id=strawberry.ID(str(r.id)),
            uuid=r.id,
            involved_nodes=tuple(r.nodes),
            kind=r.kind,
            complaint_sub_kind=r.complaint_sub_kind,
            title=r.title,
            content=r.content,
            incident_date=r.incident_date,
            location=r.location,
            latitude=r.latitude,
            longitude=r.longitude,
            tags=r.tags,
            channel=r.channel,
            anonymous=r.anonymous,
            confidential=r.confidential,
            state=r.state,
            state_label=r.state.label,
            region=Region.from_row(r.region),
            institution=Institution.from_row(r.institution),
            archive_reason=r.archive_reason,
            version=r.version,
            sla_rule_version=r.sla_rule_version,
            submitted_at=r.submitted_at,
            updated_at=r.updated_at,
            origin_node_code=r.origin_node,
            region_code=r.region_code,
            institution_code=r.institution_code,
            topic_id=r.topic_id,
        )


async def _region(info: Info, code: str | None) -> Region | None:
    if code is None:
        return None
    row = await info.context.loaders.region.load(code)
    return Region.from_row(row) if row else None


async def _institution(info: Info, code: str) -> Institution | None:
    row = await info.context.loaders.institution.load(code)
    return Institution.from_row(row) if row else None
