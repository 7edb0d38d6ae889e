"""The rows an initial import writes for a page of pulled changes, planned in memory.

For a report the hub does not know, the per-change path runs ``Submit`` and
then the shortest run of transitions to the node's state, each through
``ReportService``. The plan makes exactly the same decisions with the same
command builders and validators (``hub.ingest.pulled``, ``hub.domain.commands``) and
the same domain core (``submit``, ``decide``), and writes down the rows those
commands would leave behind in their final state:
the report, its reporter, one history row per command, its dispositions and
follow-ups, and the review-queue items for what it will not guess. Nothing is
written here; ``hub.ingest.initial`` copies the plan in set-wise.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from connectors.change import ExternalChange
from connectors.transitions import verbs_between
from hub.domain.commands import Actor, Dispose, Submit, validate
from hub.domain.core import Current, Known, decide, default_institution, submit
from hub.errors import BadInput, InvalidTransition
from hub.ingest.pulled import submit_for, transition_for
from hub.store.effects import HISTORY_COLUMNS, REPORT_COLUMNS, entry_values, report_values
from schema.report import ActorRole, ArchiveReason

REPORTER_COLUMNS = ("report_id", "name", "nik", "phone", "email")
DISPOSITION_COLUMNS = (
    "report_id", "seq", "from_institution", "to_institution", "note", "declined",
)  # fmt: skip
FOLLOW_UP_COLUMNS = ("ord", "report_id", "institution_code", "content")
REVIEW_COLUMNS = ("external_id", "external_version", "raw_state", "reason", "report_id")

Row = tuple[object, ...]


@dataclass(frozen=True, slots=True)
class Reference:
    """What ``submission_read`` and ``transition_read`` look up, read once per import."""

    regions: frozenset[str]
    topics: frozenset[int]
    institutions: Mapping[str, str]
    """Each institution's node."""
    nodes: frozenset[str]


@dataclass(slots=True)
class Plan:
    """The staging rows of one page, and what they amount to."""

    reports: list[Row] = field(default_factory=list)
    reporters: list[Row] = field(default_factory=list)
    history: list[Row] = field(default_factory=list)
    dispositions: list[Row] = field(default_factory=list)
    follow_ups: list[Row] = field(default_factory=list)
    reviews: list[Row] = field(default_factory=list)
    submitted: int = 0
    moved: int = 0
    unchanged: int = 0
    reviewed: int = 0

    def review(self, change: ExternalChange, reason: str, report_id: uuid.UUID | None) -> None:
        self.reviews.append(
            (change.external_id, change.external_version, change.raw_state, reason, report_id)
        )
        self.reviewed += 1


def _known(command: Submit, node: str, ref: Reference) -> Known:
    """What ``submission_read`` would find, from the reference read once per import."""
    institution = command.institution_code or default_institution(command.region_code)
    return Known(
        region=command.region_code in ref.regions,
        topic=command.topic_id in ref.topics,
        institution_node=ref.institutions.get(institution),
        node=node in ref.nodes,
        external_node=command.external_node is None or command.external_node in ref.nodes,
    )


def plan_page(changes: Iterable[ExternalChange], reference: Reference, at: datetime) -> Plan:
    """The rows for ``changes``, each a report the hub does not know yet, at most once,
    all at the hub's time ``at`` of the page."""
    plan = Plan()
    for change in changes:
        _plan_one(change, reference, plan, at)
    return plan


def _plan_one(change: ExternalChange, reference: Reference, plan: Plan, at: datetime) -> None:
    if change.topic_id is None:
        plan.review(change, f"unmapped topic {change.raw_topic!r}", None)
        return
    command = submit_for(change)
    actor = Actor(change.node, ActorRole.NODE_SYSTEM, everywhere=True)
    try:
        validate(command)
        # The import is idempotent on the external id by itself (bulk_drop_known).
        made = submit(command, actor, uuid.uuid4(), at, _known(command, change.node, reference))
    except BadInput as error:
        plan.review(change, f"cannot submit: {error.message}", None)
        return
    plan.submitted += 1
    plan.history.append(entry_values(made.entry))
    if made.reporter is not None:
        r = made.reporter
        plan.reporters.append((made.report.id, r.name, r.nik, r.phone, r.email))
    submitted = made.current
    report, archive_reason = _walk(change, submitted, reference, plan, actor, at)
    # A report left as submitted is the submission's row already (most of a first pull).
    final = made.report if report is submitted else made.report.after(report, archive_reason, at)
    plan.reports.append((*report_values(final), change.external_id))


def _walk(
    change: ExternalChange,
    report: Current,
    reference: Reference,
    plan: Plan,
    actor: Actor,
    at: datetime,
) -> tuple[Current, ArchiveReason | None]:
    """``Ingest._apply_once`` from SUBMITTED on, for a report it has just submitted: the
    same commands, decided by the same core; returns the report and its archive reason."""
    if report.state in change.agrees_with:
        plan.unchanged += 1
        return report, None
    if change.state is None:
        plan.review(change, f"unmapped status {change.raw_state!r}", report.id)
        return report, None
    verbs = verbs_between(report.state, change.state)
    if verbs is None:
        reason = f"no move from {report.state.value} to {change.state.value}"
        plan.review(change, reason, report.id)
        return report, None
    archive_reason: ArchiveReason | None = None
    for verb in verbs:
        try:
            command = transition_for(verb, report.id, change)
            validate(command)
            target = command.institution_code if isinstance(command, Dispose) else None
            target_node = reference.institutions.get(target) if target is not None else None
            decided = decide(report, command, actor, report.version, target_node=target_node)
        except (BadInput, InvalidTransition) as error:
            plan.review(change, f"{verb.value}: {error.message}", report.id)
            return report, archive_reason
        link = decided.disposition
        if link is not None:
            plan.dispositions.append(
                (
                    report.id,
                    link.seq,
                    link.from_institution,
                    link.to_institution,
                    link.note,
                    link.declined,
                )
            )
        if decided.follow_up is not None:
            ord_ = len(plan.follow_ups)
            plan.follow_ups.append((ord_, report.id, report.institution_code, decided.follow_up))
        plan.history.append(entry_values(report.entry(decided, actor, at)))
        report = report.after(decided)
        archive_reason = decided.archive_reason
    plan.moved += 1
    return report, archive_reason


def rows_of(plan: Plan) -> list[tuple[str, tuple[str, ...], list[Row]]]:
    """(staging table, columns, rows) in the order they are copied."""
    return [
        ("bulk_reports", (*REPORT_COLUMNS, "external_id"), plan.reports),
        ("bulk_reporters", REPORTER_COLUMNS, plan.reporters),
        ("bulk_history", HISTORY_COLUMNS, plan.history),
        ("bulk_dispositions", DISPOSITION_COLUMNS, plan.dispositions),
        ("bulk_follow_ups", FOLLOW_UP_COLUMNS, plan.follow_ups),
        ("bulk_reviews", REVIEW_COLUMNS, plan.reviews),
    ]
