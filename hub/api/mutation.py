"""The mutation root: one mutation per life-cycle verb, all through ReportService."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from hub.api.context import Info
from hub.api.query import parse_id
from hub.api.types import Institution, Rating, Report, ReviewItem
from hub.domain import commands
from hub.domain.institutions import NewInstitution
from hub.domain.review import Resolution, ReviewAction
from hub.errors import BadInput, Forbidden
from schema import institutions, lifecycle, report

Key = Annotated[
    str,
    strawberry.argument(
        description="8-128 characters chosen by the caller; a retry with the same key "
        "returns the first result, the same key with another request is BAD_INPUT."
    ),
]
Version = Annotated[
    int,
    strawberry.argument(
        description="The version you last read; a stale one is refused with VERSION_CONFLICT."
    ),
]


@strawberry.input
class ReporterInput:
    name: str | None = None
    nik: str | None = strawberry.field(default=None, description="16-digit NIK.")
    phone: str | None = None
    email: str | None = None


@strawberry.input
class ExternalRefInput:
    node: str
    external_id: str


@strawberry.input
class PrivacyInput:
    anonymous: bool = False
    confidential: bool = False


@strawberry.input
class SubmitReportInput:
    kind: report.ReportKind
    complaint_sub_kind: report.ComplaintSubKind | None = None
    title: str
    content: str
    region_code: str = strawberry.field(description="Kemendagri code of the incident's region.")
    topic_id: int
    channel: report.Channel = report.Channel.INTEGRATED_APP
    institution_code: str | None = strawberry.field(
        default=None, description="Target institution; default: the region's government."
    )
    incident_date: date | None = None
    location: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    tags: list[str] = strawberry.field(default_factory=list)
    privacy: PrivacyInput | None = None
    reporter: ReporterInput | None = None
    external_ref: ExternalRefInput | None = None


@strawberry.input(description="An institution the directory does not list yet.")
class AddInstitutionInput:
    code: str = strawberry.field(
        description="Lower-case letters, digits, dots and hyphens, e.g. opd-16.71-dinkes."
    )
    name: str
    level: institutions.InstitutionLevel
    region_code: str | None = strawberry.field(
        default=None, description="Its kabupaten/kota, or the province; none for NATIONAL."
    )
    node_code: str | None = strawberry.field(
        default=None,
        description="The node whose system handles its reports; default: its region's node "
        "(NATIONAL: SP4N-LAPOR!).",
    )


@strawberry.input(description="How an admin resolves one held change of the review queue.")
class ResolveReviewItemInput:
    id: strawberry.ID
    action: ReviewAction
    state: lifecycle.ReportState | None = strawberry.field(
        default=None, description="APPLY: the canonical state the node's status means."
    )
    verb: lifecycle.Verb | None = strawberry.field(
        default=None, description="APPLY: or the one verb it means (instead of a state)."
    )
    note: str | None = strawberry.field(
        default=None, description="Why; required to DISMISS. Kept with the item."
    )
    institution_code: str | None = strawberry.field(
        default=None, description="A disposition on the way: the institution it goes to."
    )
    archive_reason: report.ArchiveReason | None = strawberry.field(
        default=None, description="An archive on the way: its reason (default UNCLEAR)."
    )
    remember: bool = strawberry.field(
        default=False,
        description="APPLY with a state: the node's status label means that state from now "
        "on, and the next such status is applied without review.",
    )


async def _run(
    info: Info, command: commands.Command, key: str, expected_version: int | None
) -> Report:
    ctx = info.context
    if ctx.actor is None:
        raise Forbidden(
            "changing reports needs a token with a node:<code>:write or province:admin scope"
        )
    row = await ctx.service.execute(
        command, ctx.actor, idempotency_key=key, expected_version=expected_version
    )
    return Report.from_row(row)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Records a new report (state SUBMITTED).")
    async def submit_report(
        self,
        info: Info,
        input: SubmitReportInput,
        idempotency_key: Key,
    ) -> Report:
        privacy = input.privacy or PrivacyInput()
        command = commands.Submit(
            kind=report.ReportKind(input.kind),
            complaint_sub_kind=(
                report.ComplaintSubKind(input.complaint_sub_kind)
                if input.complaint_sub_kind
                else None
            ),
            title=input.title,
            content=input.content,
            region_code=input.region_code,
            topic_id=input.topic_id,
            channel=report.Channel(input.channel),
            institution_code=input.institution_code,
            incident_date=input.incident_date,
            location=input.location,
            latitude=input.latitude,
            longitude=input.longitude,
            tags=tuple(input.tags),
            privacy=report.PrivacyFlags(privacy.anonymous, privacy.confidential),
            reporter=commands.Reporter(**vars(input.reporter)) if input.reporter else None,
            external_node=input.external_ref.node if input.external_ref else None,
            external_id=input.external_ref.external_id if input.external_ref else None,
        )
        return await _run(info, command, idempotency_key, None)

    @strawberry.mutation(description="SUBMITTED or POSTPONED -> VERIFIED; may tighten privacy.")
    async def verify_report(
        self,
        info: Info,
        id: strawberry.ID,
        expected_version: Version,
        idempotency_key: Key,
        note: str | None = None,
        privacy: PrivacyInput | None = None,
    ) -> Report:
        flags = report.PrivacyFlags(privacy.anonymous, privacy.confidential) if privacy else None
        command = commands.Verify(parse_id(id), note, flags)
        return await _run(info, command, idempotency_key, expected_version)

    @strawberry.mutation(
        description="SUBMITTED -> POSTPONED (tunda): the note says what is missing."
    )
    async def postpone_report(
        self,
        info: Info,
        id: strawberry.ID,
        expected_version: Version,
        idempotency_key: Key,
        note: str,
    ) -> Report:
        command = commands.Postpone(parse_id(id), note)
        return await _run(info, command, idempotency_key, expected_version)

    @strawberry.mutation(
        description="Forwards the report to an institution; a re-disposition adds a link."
    )
    async def dispose_report(
        self,
        info: Info,
        id: strawberry.ID,
        expected_version: Version,
        idempotency_key: Key,
        institution_code: str,
        note: str | None = None,
    ) -> Report:
        command = commands.Dispose(parse_id(id), institution_code, note)
        return await _run(info, command, idempotency_key, expected_version)

    @strawberry.mutation(description="Posts a follow-up (tindak lanjut) -> IN_FOLLOW_UP.")
    async def add_follow_up(
        self,
        info: Info,
        id: strawberry.ID,
        expected_version: Version,
        idempotency_key: Key,
        content: str,
    ) -> Report:
        command = commands.FollowUp(parse_id(id), content)
        return await _run(info, command, idempotency_key, expected_version)

    @strawberry.mutation(description="IN_FOLLOW_UP -> COMPLETED.")
    async def complete_report(
        self,
        info: Info,
        id: strawberry.ID,
        expected_version: Version,
        idempotency_key: Key,
        note: str | None = None,
    ) -> Report:
        command = commands.Complete(parse_id(id), note)
        return await _run(info, command, idempotency_key, expected_version)

    @strawberry.mutation(description="COMPLETED -> IN_FOLLOW_UP; the note records why.")
    async def reopen_report(
        self,
        info: Info,
        id: strawberry.ID,
        expected_version: Version,
        idempotency_key: Key,
        note: str,
    ) -> Report:
        command = commands.Reopen(parse_id(id), note)
        return await _run(info, command, idempotency_key, expected_version)

    @strawberry.mutation(
        description="Applies a held change of the review queue (as a state or a verb, "
        "through the one write path, recorded as the node's own system) or dismisses it; "
        "province admins only. A report's held changes are applied in their order."
    )
    async def resolve_review_item(self, info: Info, input: ResolveReviewItemInput) -> ReviewItem:
        ctx = info.context
        if not ctx.principal.is_admin:
            raise Forbidden("the review queue is for the province's admins")
        decision = Resolution(
            item_id=_item_id(input.id),
            action=input.action,
            state=input.state,
            verb=input.verb,
            note=input.note,
            institution_code=input.institution_code,
            archive_reason=input.archive_reason,
            remember=input.remember,
        )
        admin = ctx.principal.client_id
        assert admin is not None  # an admin is an authenticated client
        return ReviewItem.from_row(await ctx.review.resolve(decision, admin))

    @strawberry.mutation(
        description="DISPOSED -> VERIFIED: the institution the report was forwarded to "
        "declines it (Bukan Wewenang); it goes back to the institution that forwarded it, "
        "which must forward it again. The reason is required."
    )
    async def decline_disposition(
        self,
        info: Info,
        id: strawberry.ID,
        expected_version: Version,
        idempotency_key: Key,
        reason: str,
    ) -> Report:
        command = commands.Decline(parse_id(id), reason)
        return await _run(info, command, idempotency_key, expected_version)

    @strawberry.mutation(
        description="The reporter answers a follow-up (through a node's app): IN_FOLLOW_UP "
        "stays, COMPLETED is reopened; the institution owes another follow-up, and the "
        "auto-close waits for it."
    )
    async def reply_to_follow_up(
        self,
        info: Info,
        id: strawberry.ID,
        expected_version: Version,
        idempotency_key: Key,
        content: str,
    ) -> Report:
        command = commands.Reply(parse_id(id), content)
        return await _run(info, command, idempotency_key, expected_version)

    @strawberry.mutation(
        description="The reporter's satisfaction with a completed report, 1 to 5 with an "
        "optional comment; once per report."
    )
    async def rate_report(
        self, info: Info, id: strawberry.ID, score: int, comment: str | None = None
    ) -> Rating:
        ctx = info.context
        if ctx.actor is None:
            raise Forbidden(
                "rating reports needs a token with a node:<code>:write or province:admin scope"
            )
        return Rating.from_row(await ctx.ratings.rate(parse_id(id), score, comment, ctx.actor))

    @strawberry.mutation(
        description="Archives report id as a DUPLICATE of report of, through the one write "
        "path (every node involved hears of it); of takes over id's external references. "
        "Province admins only."
    )
    async def mark_duplicate(
        self,
        info: Info,
        id: strawberry.ID,
        of: strawberry.ID,
        expected_version: Version,
        idempotency_key: Key,
    ) -> Report:
        ctx = info.context
        if ctx.actor is None or not ctx.principal.is_admin:
            raise Forbidden("marking duplicates is for the province's admins")
        row = await ctx.duplicates.mark(
            parse_id(id), parse_id(of), ctx.actor,
            expected_version=expected_version, idempotency_key=idempotency_key,
        )  # fmt: skip
        return Report.from_row(row)

    @strawberry.mutation(
        description="Adds an institution to the directory (province admins only); reports "
        "addressed to it are written back to its node's system."
    )
    async def add_institution(self, info: Info, input: AddInstitutionInput) -> Institution:
        admin = _admin(info, "editing the institutions directory")
        new = NewInstitution(
            code=input.code.strip(),
            name=input.name,
            level=institutions.InstitutionLevel(input.level),
            region_code=input.region_code,
            node_code=input.node_code,
        )
        return Institution.from_row(await info.context.institutions.add(new, admin))

    @strawberry.mutation(description="Renames an institution; its code stays (admins only).")
    async def rename_institution(self, info: Info, code: str, name: str) -> Institution:
        admin = _admin(info, "editing the institutions directory")
        return Institution.from_row(await info.context.institutions.rename(code, name, admin))

    @strawberry.mutation(
        description="Deactivates an institution, saying why (admins only): it keeps its "
        "history and the reports it holds, and takes no new disposition or submission."
    )
    async def deactivate_institution(self, info: Info, code: str, note: str) -> Institution:
        admin = _admin(info, "editing the institutions directory")
        row = await info.context.institutions.deactivate(code, note, admin)
        return Institution.from_row(row)

    @strawberry.mutation(description="Closes a report without handling, with a reason.")
    async def archive_report(
        self,
        info: Info,
        id: strawberry.ID,
        expected_version: Version,
        idempotency_key: Key,
        reason: report.ArchiveReason,
        note: str | None = None,
    ) -> Report:
        command = commands.Archive(parse_id(id), report.ArchiveReason(reason), note)
        return await _run(info, command, idempotency_key, expected_version)


def _admin(info: Info, what: str) -> str:
    """The admin client acting, or FORBIDDEN."""
    principal = info.context.principal
    if not principal.is_admin or principal.client_id is None:
        raise Forbidden(f"{what} is for the province's admins")
    return principal.client_id


def _item_id(value: strawberry.ID) -> int:
    if not (str(value).isdigit() and len(str(value)) <= 18):
        raise BadInput(f"{value!r} is not a review item id")
    return int(value)
