"""Domain commands from a pulled change: what the per-change path executes and the
initial import plans, built by the same two functions so both mean the same."""

from __future__ import annotations

import uuid

from connectors.change import ExternalChange
from hub.domain.commands import (
    Archive,
    Complete,
    Dispose,
    FollowUp,
    Postpone,
    Reopen,
    Reporter,
    Submit,
    Transition,
    Verify,
)
from hub.errors import BadInput
from schema.lifecycle import Verb
from schema.report import ArchiveReason, ComplaintSubKind, ReportKind


def submit_for(change: ExternalChange) -> Submit:
    """The command submitting a report the hub does not know yet (its topic is mapped)."""
    assert change.topic_id is not None
    sub_kind = change.complaint_sub_kind
    if change.kind is ReportKind.COMPLAINT and sub_kind is None:
        sub_kind = ComplaintSubKind.NON_SUPERVISORY
    who = change.reporter
    reporter = (
        Reporter(name=who.name, nik=who.nik, phone=who.phone, email=who.email)
        if who is not None
        else None
    )
    return Submit(
        kind=change.kind,
        title=change.title,
        content=change.content,
        region_code=change.region_code,
        topic_id=change.topic_id,
        channel=change.channel,
        complaint_sub_kind=sub_kind,
        institution_code=None,
        incident_date=change.incident_date,
        location=change.location,
        latitude=change.latitude,
        longitude=change.longitude,
        tags=change.tags,
        privacy=change.privacy,
        reporter=reporter,
        external_node=change.node,
        external_id=change.external_id,
    )


def transition_for(verb: Verb, report_id: uuid.UUID, change: ExternalChange) -> Transition:
    """The command for one step towards the node's state, from the change's fields."""
    said = change.note or f"status at node {change.node}: {change.raw_state}"
    rid = report_id
    match verb:
        case Verb.VERIFY:
            return Verify(rid, note=change.note)
        case Verb.POSTPONE:
            return Postpone(rid, note=said)
        case Verb.DISPOSE:
            if change.institution_code is None:
                raise BadInput("the node names no institution to dispose to")
            return Dispose(rid, institution_code=change.institution_code, note=change.note)
        case Verb.FOLLOW_UP:
            return FollowUp(rid, content=said)
        case Verb.COMPLETE:
            return Complete(rid, note=change.note)
        case Verb.REOPEN:
            return Reopen(rid, note=said)
        case Verb.ARCHIVE:
            return Archive(rid, reason=change.archive_reason or ArchiveReason.UNCLEAR, note=said)
    raise BadInput(f"{verb.value} is not a transition")
