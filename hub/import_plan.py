"""The rows an initial import writes for a page of pulled changes, planned in memory.

For a report the hub does not know, the per-change path runs ``Submit`` and
then the shortest run of transitions to the node's state, each through
``ReportService``. The plan makes exactly the same decisions with the same
command builders and validators (``hub.pulled``, ``hub.domain.commands``), and
writes down the rows those commands would leave behind in their final state:
the report, its reporter, one history row per command, its dispositions and
follow-ups, and the review-queue items for what it will not guess. Nothing is
written here; ``hub.initial_sync`` copies the plan in set-wise.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from connectors.change import ExternalChange
from connectors.transitions import verbs_between
from hub.domain.commands import Actor, Dispose, Submit, validate
from hub.domain.core import Current, decide, default_institution
from hub.errors import BadInput, InvalidTransition
from hub.pulled import submit_for, transition_for
from schema.lifecycle import ReportState, Verb
from schema.report import ActorRole
from schema.sla import CURRENT_SLA_VERSION

REPORT_COLUMNS = (
    "id", "kind", "complaint_sub_kind", "title", "content", "incident_date", "location",
    "latitude", "longitude", "topic_id", "tags", "channel", "anonymous", "confidential",
    "region_code", "institution_code", "state", "archive_reason", "version",
    "sla_rule_version", "external_id",
)  # fmt: skip
REPORTER_COLUMNS = ("report_id", "name", "nik", "phone", "email")
HISTORY_COLUMNS = ("report_id", "version", "verb", "from_state", "to_state", "note")
DISPOSITION_COLUMNS = ("report_id", "seq", "from_institution", "to_institution", "note")
FOLLOW_UP_COLUMNS = ("ord", "report_id", "institution_code", "content")
REVIEW_COLUMNS = ("external_id", "external_version", "raw_state", "reason", "report_id")

Row = tuple[object, ...]


@dataclass(frozen=True, slots=True)
class Reference:
    """What ``check_references`` and ``transition_read`` look up, read once per import."""

    regions: frozenset[str]
    topics: frozenset[int]
    institutions: frozenset[str]
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


def _check_references(submit: Submit, node: str, ref: Reference) -> None:
    """``ReportService._submit``'s checks, in its order and words."""
    institution = default_institution(submit.region_code)
    for name, value, ok in (
        ("regionCode", submit.region_code, submit.region_code in ref.regions),
        ("topicId", submit.topic_id, submit.topic_id in ref.topics),
        ("institutionCode", institution, institution in ref.institutions),
        ("actor node", node, node in ref.nodes),
    ):
        if not ok:
            raise BadInput(f"{name} {value!r} is not known to the hub")
    if submit.external_node is not None and submit.external_node not in ref.nodes:
        raise BadInput(f"externalRef.node {submit.external_node!r} is not a federation node")


def plan_page(changes: Iterable[ExternalChange], reference: Reference) -> Plan:
    """The rows for ``changes``, each a report the hub does not know yet, at most once."""
    plan = Plan()
    for change in changes:
        _plan_one(change, reference, plan)
    return plan


def _plan_one(change: ExternalChange, reference: Reference, plan: Plan) -> None:
    if change.topic_id is None:
        plan.review(change, f"unmapped topic {change.raw_topic!r}", None)
        return
    submit = submit_for(change)
    try:
        validate(submit)
        _check_references(submit, change.node, reference)
    except BadInput as error:
        plan.review(change, f"cannot submit: {error.message}", None)
        return
    report = Current.submitted(
        uuid.uuid4(), default_institution(submit.region_code), submit.privacy
    )
    plan.submitted += 1
    plan.history.append((report.id, 1, Verb.SUBMIT.value, None, ReportState.SUBMITTED.value, None))
    if submit.reporter is not None:
        r = submit.reporter
        plan.reporters.append((report.id, r.name, r.nik, r.phone, r.email))
    report, archive_reason = _walk(change, report, reference, plan)
    plan.reports.append(
        (
            report.id, submit.kind.value,
            submit.complaint_sub_kind.value if submit.complaint_sub_kind else None,
            submit.title.strip(), submit.content.strip(), submit.incident_date, submit.location,
            submit.latitude, submit.longitude, submit.topic_id, list(submit.tags),
            submit.channel.value, submit.privacy.anonymous, submit.privacy.confidential,
            submit.region_code, report.institution_code, report.state.value, archive_reason,
            report.version, CURRENT_SLA_VERSION, change.external_id,
        )
    )  # fmt: skip


def _walk(
    change: ExternalChange, report: Current, reference: Reference, plan: Plan
) -> tuple[Current, str | None]:
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
    actor = Actor(change.node, ActorRole.NODE_SYSTEM, everywhere=True)
    archive_reason: str | None = None
    for verb in verbs:
        try:
            command = transition_for(verb, report.id, change)
            validate(command)
            known = not isinstance(command, Dispose) or (
                command.institution_code in reference.institutions
            )
            decided = decide(report, command, actor, report.version, institution_known=known)
        except (BadInput, InvalidTransition) as error:
            plan.review(change, f"{verb.value}: {error.message}", report.id)
            return report, archive_reason
        link = decided.disposition
        if link is not None:
            plan.dispositions.append(
                (report.id, link.seq, link.from_institution, link.to_institution, link.note)
            )
        if decided.follow_up is not None:
            ord_ = len(plan.follow_ups)
            plan.follow_ups.append((ord_, report.id, report.institution_code, decided.follow_up))
        plan.history.append(
            (report.id, decided.version, verb.value, decided.previous.value,
             decided.state.value, decided.note)
        )  # fmt: skip
        report = report.after(decided)
        archive_reason = decided.archive_reason
    plan.moved += 1
    return report, archive_reason


def rows_of(plan: Plan) -> list[tuple[str, tuple[str, ...], list[Row]]]:
    """(staging table, columns, rows) in the order they are copied."""
    return [
        ("bulk_reports", REPORT_COLUMNS, plan.reports),
        ("bulk_reporters", REPORTER_COLUMNS, plan.reporters),
        ("bulk_history", HISTORY_COLUMNS, plan.history),
        ("bulk_dispositions", DISPOSITION_COLUMNS, plan.dispositions),
        ("bulk_follow_ups", FOLLOW_UP_COLUMNS, plan.follow_ups),
        ("bulk_reviews", REVIEW_COLUMNS, plan.reviews),
    ]
