"""The domain core: what a command does to a report, decided without any I/O.

Given what a report is now (``Current``) and a transition command, ``decide``
returns the change it makes (``Change``: the new state and version, the history
entry's verb and note, a disposition link or a follow-up, the privacy flags,
the institutions the event names) or raises the coded error a client sees.
``submit`` does the same for a new report (``Submission``: the ``reports`` row,
its reporter and external id, the history entry and what the event names).
Both decide who is involved in the report (``involvement``), which the store
keeps with the report and the event carries: sinks, the content directory,
privacy and authorisation read it from there.
Every writer asks it: ``ReportService`` for mutations, pulled changes and the
auto-close, the initial import's plan and the demo seed; the store only writes
what it decided. The rules themselves (which verb may leave which state, where
it leads) live in ``schema.lifecycle``; this module applies them to a report.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date, datetime

from hub.domain.commands import (
    Actor,
    Archive,
    Decline,
    Dispose,
    FollowUp,
    Reply,
    Reporter,
    Submit,
    Transition,
    Verify,
)
from hub.errors import (
    BadInput,
    forbidden_move,
    no_such_report,
    stale_version,
    unknown_reference,
)
from schema.events import ExternalRef
from schema.lifecycle import TRANSITIONS, VERBS, ReportState, Verb, can_apply
from schema.nodes import NATIONAL_NODE
from schema.regions import PROVINCE_CODE
from schema.report import ArchiveReason, Channel, ComplaintSubKind, PrivacyFlags, ReportKind
from schema.sla import CURRENT_SLA_VERSION


def involvement(*nodes: str) -> tuple[str, ...]:
    """The nodes involved in a report, sorted: the national SP4N-LAPOR! (whose admins
    verify and forward every report) and the given ones. A submission gives its
    origin node, its region's node (a regional node's code is its region's code) and
    its institution's node; each disposition adds the node of the institution it
    addresses. Once involved, a node stays involved."""
    return tuple(sorted({NATIONAL_NODE, *nodes}))


def acts_on(actor: Actor, nodes: Collection[str]) -> bool:
    """Whether ``actor`` may act on a report involving ``nodes``: its node is involved,
    or it acts everywhere (the province's verifying admins, the hub's jobs)."""
    return actor.everywhere or actor.node_code in nodes


def default_institution(region_code: str) -> str:
    """The government that receives a report when the reporter names none."""
    return "pemprov-16" if region_code == PROVINCE_CODE else f"pemda-{region_code}"


@dataclass(frozen=True, slots=True)
class Current:
    """What a decision reads of a report."""

    id: uuid.UUID
    state: ReportState
    version: int
    institution_code: str
    privacy: PrivacyFlags
    chain: tuple[str, ...]
    """Every institution the report has been addressed to, oldest first: where it was
    submitted, then the target of each disposition."""
    nodes: tuple[str, ...]
    """The nodes involved in it (``involvement``)."""

    def after(self, change: Change) -> Current:
        """The report as ``change`` leaves it (for a run of commands planned in memory)."""
        chain = self.chain
        if change.disposition is not None:
            chain = (*chain, change.disposition.to_institution)
        return Current(
            self.id, change.state, change.version, change.institution_code, change.privacy,
            chain, change.nodes,
        )  # fmt: skip

    def entry(self, change: Change, actor: Actor, at: datetime) -> Entry:
        """The history row ``change`` appends, made by ``actor`` at ``at``."""
        return Entry(
            self.id, change.version, change.verb.value, change.previous.value,
            change.state.value, actor.node_code, actor.role.value, change.note, at,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Link:
    """One link of the disposition chain a ``Dispose`` appends."""

    seq: int
    from_institution: str
    to_institution: str
    note: str | None
    declined: bool = False
    """A decline: the institution that had it sends it back to the one that forwarded it."""


@dataclass(frozen=True, slots=True)
class Change:
    """The effects of one transition on one report, as the store writes them."""

    report_id: uuid.UUID
    verb: Verb
    previous: ReportState
    state: ReportState
    version: int
    institution_code: str
    """The institution handling the report afterwards."""
    archive_reason: ArchiveReason | None
    privacy: PrivacyFlags
    note: str | None
    disposition: Link | None
    follow_up: str | None
    """A follow-up's content, recorded for the institution handling the report."""
    reply: str | None
    """The reporter's answer to a follow-up."""
    institutions: tuple[str, ...]
    """Every institution the report has been addressed to, the new one included: the
    event names them."""
    nodes: tuple[str, ...]
    """The nodes involved in the report afterwards (``involvement``)."""


def decide(
    current: Current | None,
    command: Transition,
    actor: Actor,
    expected_version: int,
    *,
    target_node: str | None = None,
    target_active: bool = True,
) -> Change:
    """The change ``command`` makes to ``current`` (None: no such report), or the error.

    ``target_node`` is the node of a ``Dispose``'s target institution, None when the
    hub knows no such institution, and ``target_active`` whether it still takes
    reports (the caller looks both up with the report). The
    checks run in the order a client meets them: existence, involvement, version,
    life cycle, the command's own rules.
    """
    if current is None or not acts_on(actor, current.nodes):
        # A report the actor's node is not involved in answers as an unknown id would.
        raise no_such_report(command.report_id)
    if current.version != expected_version:
        raise stale_version(current.id, current.version, expected_version)
    if not can_apply(command.verb, current.state):
        state = current.state
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[state])) or "none"
        verb = command.verb.value.lower().replace("_", " ")
        raise forbidden_move(verb, state.value, state.label, allowed)
    institution = current.institution_code
    privacy = current.privacy
    archive_reason: ArchiveReason | None = None
    disposition: Link | None = None
    follow_up: str | None = None
    reply: str | None = None
    chain = current.chain
    nodes = current.nodes
    match command:
        case Verify(privacy=requested) if requested is not None:
            if privacy.loosens(requested):
                raise BadInput("privacy flags can only be tightened; loosening needs the reporter")
            privacy = privacy.tightened(requested)
        case Dispose():
            if target_node is None:
                raise unknown_reference("institutionCode", command.institution_code)
            if not target_active:
                raise BadInput(deactivated(command.institution_code))
            disposition = Link(len(chain), institution, command.institution_code, command.note)
            institution = command.institution_code
            chain = (*chain, institution)
            nodes = involvement(*nodes, target_node)
        case Decline():
            # The last link addressed the report to its institution; its sender gets it back.
            if len(chain) < 2:
                raise BadInput(f"report {current.id} was never forwarded: nothing to decline")
            forwarder = chain[-2]
            disposition = Link(len(chain), institution, forwarder, command.note, declined=True)
            institution = forwarder
            chain = (*chain, institution)
        case FollowUp():
            follow_up = command.content
        case Reply():
            reply = command.content
        case Archive():
            archive_reason = command.reason
    return Change(
        report_id=current.id,
        verb=command.verb,
        previous=current.state,
        state=VERBS[command.verb].target,
        version=current.version + 1,
        institution_code=institution,
        archive_reason=archive_reason,
        privacy=privacy,
        note=getattr(command, "note", None),
        disposition=disposition,
        follow_up=follow_up,
        reply=reply,
        institutions=tuple(dict.fromkeys(chain)),
        nodes=nodes,
    )


def deactivated(institution_code: str) -> str:
    """Why a report cannot be addressed to a deactivated institution."""
    return (
        f"institution {institution_code!r} is deactivated: it keeps its reports but takes "
        "no new ones; address the report to the institution that took over"
    )


@dataclass(frozen=True, slots=True)
class Known:
    """Which of a submission's references the hub knows, read with the submission."""

    region: bool
    topic: bool
    institution_node: str | None
    """The node of the submission's institution; None: no such institution."""
    node: bool
    """The submitting actor's node."""
    external_node: bool
    """The node of the external id (True when there is none)."""
    external_ref_taken: bool = False
    """Whether that node's external id already names a report."""
    institution_active: bool = True
    """False: the institution is deactivated and takes no new report."""

    @classmethod
    def everything(cls, institution_node: str) -> Known:
        """For a writer whose references are known valid (the demo seed's own tables)."""
        return cls(True, True, institution_node, True, True)


@dataclass(frozen=True, slots=True)
class NewReport:
    """The ``reports`` row a submission creates, column for column, in table order.

    The one list of a report's columns: the store copies and inserts by these
    fields (``hub.store.effects``)."""

    id: uuid.UUID
    kind: ReportKind
    complaint_sub_kind: ComplaintSubKind | None
    title: str
    content: str
    incident_date: date | None
    location: str | None
    latitude: float | None
    longitude: float | None
    topic_id: int
    tags: list[str]
    channel: Channel
    anonymous: bool
    confidential: bool
    origin_node: str
    region_code: str
    institution_code: str
    state: ReportState
    archive_reason: ArchiveReason | None
    version: int
    sla_rule_version: str
    submitted_at: datetime
    updated_at: datetime
    nodes: list[str]
    """The nodes involved in the report (``involvement``), sorted."""

    def after(
        self, current: Current, archive_reason: ArchiveReason | None, when: datetime
    ) -> NewReport:
        """The row as a run of changes planned in memory leaves it (``current``, at ``when``)."""
        return replace(
            self, state=current.state, version=current.version,
            institution_code=current.institution_code, archive_reason=archive_reason,
            anonymous=current.privacy.anonymous, confidential=current.privacy.confidential,
            updated_at=when, nodes=list(current.nodes),
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Entry:
    """One row of a report's history, as the store appends it."""

    report_id: uuid.UUID
    version: int
    verb: str
    from_state: str | None
    to_state: str
    actor_node: str
    actor_role: str
    note: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class Submission:
    """The effects of one submission, as the store writes them."""

    report: NewReport
    reporter: Reporter | None
    external_refs: tuple[ExternalRef, ...]
    """The id the submitting node gave the report, if any; the event carries it."""
    entry: Entry
    """The first history row."""

    @property
    def institutions(self) -> tuple[str, ...]:
        """The institutions the event names: the one the report was submitted to."""
        return (self.report.institution_code,)

    @property
    def current(self) -> Current:
        """The report as the core sees it after its submission."""
        r = self.report
        privacy = PrivacyFlags(r.anonymous, r.confidential)
        state, institution = r.state, r.institution_code
        return Current(r.id, state, r.version, institution, privacy, (institution,), tuple(r.nodes))


def submit(
    command: Submit, actor: Actor, report_id: uuid.UUID, at: datetime, known: Known
) -> Submission:
    """The submission ``command`` makes as ``report_id`` at ``at``, or the BadInput naming
    the first reference the hub does not know (in the order a client reads its input)."""
    institution = command.institution_code or default_institution(command.region_code)
    for name, value, ok in (
        ("regionCode", command.region_code, known.region),
        ("topicId", command.topic_id, known.topic),
        ("institutionCode", institution, known.institution_node is not None),
        ("actor node", actor.node_code, known.node),
    ):
        if not ok:
            raise unknown_reference(name, value)
    refs: tuple[ExternalRef, ...] = ()
    if command.external_node is not None:
        if not known.external_node:
            raise BadInput(f"externalRef.node {command.external_node!r} is not a federation node")
        if known.external_ref_taken:
            raise BadInput(duplicate_ref(command.external_node, command.external_id))
        assert command.external_id is not None  # validated with its node
        refs = (ExternalRef(command.external_node, command.external_id),)
    state = VERBS[Verb.SUBMIT].target
    if not known.institution_active:
        raise BadInput(deactivated(institution))
    assert known.institution_node is not None  # checked above
    nodes = involvement(actor.node_code, command.region_code, known.institution_node)
    c = command
    report = NewReport(
        id=report_id, kind=c.kind, complaint_sub_kind=c.complaint_sub_kind,
        title=c.title.strip(), content=c.content.strip(), incident_date=c.incident_date,
        location=c.location, latitude=c.latitude, longitude=c.longitude, topic_id=c.topic_id,
        tags=list(c.tags), channel=c.channel, anonymous=c.privacy.anonymous,
        confidential=c.privacy.confidential, origin_node=actor.node_code,
        region_code=c.region_code, institution_code=institution, state=state,
        archive_reason=None, version=1, sla_rule_version=CURRENT_SLA_VERSION,
        submitted_at=at, updated_at=at, nodes=list(nodes),
    )  # fmt: skip
    entry = Entry(report_id, 1, Verb.SUBMIT.value, None, state.value, actor.node_code,
                  actor.role.value, None, at)  # fmt: skip
    return Submission(report, c.reporter, refs, entry)


def duplicate_ref(node: str, external_id: str | None) -> str:
    """What a submission naming an external id that already names a report is told."""
    return f"externalRef ({node}, {external_id}) already names a report"


def allowed_verbs(state: ReportState) -> list[Verb]:
    """The transitions a report in ``state`` may take, in the order of ``Verb``."""
    return list(_ALLOWED[state])


_ALLOWED = {
    state: tuple(v for v in Verb if v is not Verb.SUBMIT and can_apply(v, state))
    for state in ReportState
}
"""``allowed_verbs`` of each state, asked of the life cycle once (its rules are fixed;
asking again for every change cost the writers more than deciding the change)."""
