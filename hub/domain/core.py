"""The domain core: what a command does to a report, decided without any I/O.

Given what a report is now (``Current``) and a transition command, ``decide``
returns the change it makes (``Change``: the new state and version, the history
entry's verb and note, a disposition link or a follow-up, the privacy flags,
the institutions the event names) or raises the coded error a client sees.
Every writer asks it: ``ReportService`` for mutations, pulled changes and the
auto-close, and the initial import's plan; the store only writes what it
decided. The rules themselves (which verb may leave which state, where it
leads) live in ``schema.lifecycle``; this module applies them to a report.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from hub.domain.commands import Actor, Archive, Dispose, FollowUp, Transition, Verify
from hub.errors import BadInput, InvalidTransition, NotFound, VersionConflict
from schema.lifecycle import TRANSITIONS, VERBS, ReportState, Verb, can_apply
from schema.regions import PROVINCE_CODE
from schema.report import PrivacyFlags


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
    nodes: frozenset[str] = frozenset()
    """The nodes involved in it (origin, region, the chain's institutions)."""

    @classmethod
    def submitted(cls, report_id: uuid.UUID, institution: str, privacy: PrivacyFlags) -> Current:
        """A report as its submission leaves it."""
        return cls(report_id, ReportState.SUBMITTED, 1, institution, privacy, (institution,))

    def after(self, change: Change) -> Current:
        """The report as ``change`` leaves it (for a run of commands planned in memory)."""
        chain = self.chain
        if change.disposition is not None:
            chain = (*chain, change.disposition.to_institution)
        return Current(
            self.id, change.state, change.version, change.institution_code, change.privacy,
            chain, self.nodes,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Link:
    """One link of the disposition chain a ``Dispose`` appends."""

    seq: int
    from_institution: str
    to_institution: str
    note: str | None


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
    archive_reason: str | None
    privacy: PrivacyFlags
    note: str | None
    disposition: Link | None
    follow_up: str | None
    """A follow-up's content, recorded for the institution handling the report."""
    institutions: tuple[str, ...]
    """Every institution the report has been addressed to, the new one included: the
    event names them, and through them the nodes that must hear of it."""


def decide(
    current: Current | None,
    command: Transition,
    actor: Actor,
    expected_version: int,
    *,
    institution_known: bool = True,
) -> Change:
    """The change ``command`` makes to ``current`` (None: no such report), or the error.

    ``institution_known`` says whether a ``Dispose`` target is an institution of the
    hub (the caller looks it up with the report). The checks run in the order a
    client meets them: existence, involvement, version, life cycle, the command's
    own rules.
    """
    if current is None or not (actor.everywhere or actor.node_code in current.nodes):
        # A report the actor's node is not involved in answers as an unknown id would.
        raise NotFound(f"no report with id {command.report_id}")
    if current.version != expected_version:
        raise VersionConflict(
            f"report {current.id} is at version {current.version}, "
            f"not the expected {expected_version}; reload it and try again"
        )
    if not can_apply(command.verb, current.state):
        state = current.state
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[state])) or "none"
        raise InvalidTransition(
            f"cannot {command.verb.value.lower().replace('_', ' ')} a report that is "
            f"{state.value} ({state.label}); moves allowed from {state.value}: {allowed}"
        )
    institution = current.institution_code
    privacy = current.privacy
    archive_reason: str | None = None
    disposition: Link | None = None
    follow_up: str | None = None
    chain = current.chain
    match command:
        case Verify(privacy=requested) if requested is not None:
            if privacy.loosens(requested):
                raise BadInput("privacy flags can only be tightened; loosening needs the reporter")
            privacy = privacy.tightened(requested)
        case Dispose():
            if not institution_known:
                raise BadInput(
                    f"institutionCode {command.institution_code!r} is not known to the hub"
                )
            disposition = Link(len(chain), institution, command.institution_code, command.note)
            institution = command.institution_code
            chain = (*chain, institution)
        case FollowUp():
            follow_up = command.content
        case Archive():
            archive_reason = command.reason.value
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
        institutions=tuple(dict.fromkeys(chain)),
    )


def allowed_verbs(state: ReportState) -> list[Verb]:
    """The transitions a report in ``state`` may take, in the order of ``Verb``."""
    return [v for v in Verb if v is not Verb.SUBMIT and can_apply(v, state)]
