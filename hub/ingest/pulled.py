"""Domain commands from a pulled change: what the per-change path executes and the
initial import plans, built by the same two functions so both mean the same."""

from __future__ import annotations

import uuid

from connectors.change import ExternalChange
from hub.domain.commands import Reporter, Submit, Transition, for_verb
from schema.lifecycle import Verb
from schema.report import ComplaintSubKind, ReportKind


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
    return for_verb(
        verb,
        report_id,
        note=change.note,
        said=change.note or f"status at node {change.node}: {change.raw_state}",
        institution_code=change.institution_code,
        archive_reason=change.archive_reason,
    )
