"""The canonical life cycle of a report: states, labels, allowed moves and verbs."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass


class ReportState(enum.Enum):
    SUBMITTED = "SUBMITTED"
    POSTPONED = "POSTPONED"
    VERIFIED = "VERIFIED"
    DISPOSED = "DISPOSED"
    IN_FOLLOW_UP = "IN_FOLLOW_UP"
    COMPLETED = "COMPLETED"
    ARCHIVED = "ARCHIVED"

    @property
    def label(self) -> str:
        """The Indonesian label used by SP4N-LAPOR!."""
        return STATE_LABELS[self]


STATE_LABELS: Mapping[ReportState, str] = {
    ReportState.SUBMITTED: "Belum Terverifikasi",
    ReportState.POSTPONED: "Ditunda",
    ReportState.VERIFIED: "Terverifikasi",
    ReportState.DISPOSED: "Terdisposisi",
    ReportState.IN_FOLLOW_UP: "Ditindaklanjuti",
    ReportState.COMPLETED: "Selesai",
    ReportState.ARCHIVED: "Diarsipkan",
}

S = ReportState

TRANSITIONS: Mapping[ReportState, frozenset[ReportState]] = {
    S.SUBMITTED: frozenset({S.VERIFIED, S.POSTPONED, S.ARCHIVED}),
    S.POSTPONED: frozenset({S.VERIFIED, S.ARCHIVED}),
    S.VERIFIED: frozenset({S.DISPOSED, S.ARCHIVED}),
    S.DISPOSED: frozenset({S.DISPOSED, S.IN_FOLLOW_UP, S.VERIFIED}),
    S.IN_FOLLOW_UP: frozenset({S.IN_FOLLOW_UP, S.DISPOSED, S.COMPLETED}),
    S.COMPLETED: frozenset({S.IN_FOLLOW_UP}),
    S.ARCHIVED: frozenset(),
}


class Verb(enum.Enum):
    """A domain command; each one is a mutation and an event type."""

    SUBMIT = "SUBMIT"
    VERIFY = "VERIFY"
    POSTPONE = "POSTPONE"
    DISPOSE = "DISPOSE"
    FOLLOW_UP = "FOLLOW_UP"
    COMPLETE = "COMPLETE"
    REOPEN = "REOPEN"
    ARCHIVE = "ARCHIVE"
    DECLINE = "DECLINE"
    """The receiving institution says it is not competent ("Bukan Wewenang"): the report
    goes back to the institution that forwarded it, which must forward it again."""
    REPLY = "REPLY"
    """The reporter answers a follow-up: the institution owes another one (a completed
    report is reopened), and the auto-close waits for it."""


@dataclass(frozen=True, slots=True)
class VerbRule:
    target: ReportState
    sources: frozenset[ReportState]
    """States the verb may start from; empty for SUBMIT, which creates the report."""
    event: str
    """The event name, as in ``id.go.sp4n.report.<event>.v1``."""


VERBS: Mapping[Verb, VerbRule] = {
    Verb.SUBMIT: VerbRule(S.SUBMITTED, frozenset(), "submitted"),
    Verb.VERIFY: VerbRule(S.VERIFIED, frozenset({S.SUBMITTED, S.POSTPONED}), "verified"),
    Verb.POSTPONE: VerbRule(S.POSTPONED, frozenset({S.SUBMITTED}), "postponed"),
    Verb.DISPOSE: VerbRule(
        S.DISPOSED, frozenset({S.VERIFIED, S.DISPOSED, S.IN_FOLLOW_UP}), "disposed"
    ),
    Verb.FOLLOW_UP: VerbRule(
        S.IN_FOLLOW_UP, frozenset({S.DISPOSED, S.IN_FOLLOW_UP}), "followed-up"
    ),
    Verb.COMPLETE: VerbRule(S.COMPLETED, frozenset({S.IN_FOLLOW_UP}), "completed"),
    Verb.REOPEN: VerbRule(S.IN_FOLLOW_UP, frozenset({S.COMPLETED}), "reopened"),
    Verb.ARCHIVE: VerbRule(
        S.ARCHIVED, frozenset({S.SUBMITTED, S.POSTPONED, S.VERIFIED}), "archived"
    ),
    Verb.DECLINE: VerbRule(S.VERIFIED, frozenset({S.DISPOSED}), "declined"),
    Verb.REPLY: VerbRule(S.IN_FOLLOW_UP, frozenset({S.IN_FOLLOW_UP, S.COMPLETED}), "replied"),
}


def can_apply(verb: Verb, current: ReportState | None) -> bool:
    """Whether ``verb`` may move a report in state ``current`` (None: no report yet)."""
    rule = VERBS[verb]
    if current is None:
        return verb is Verb.SUBMIT
    return current in rule.sources and rule.target in TRANSITIONS[current]
