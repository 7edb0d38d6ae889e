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
from hub.domain.commands import Archive, Dispose, FollowUp, Submit, validate
from hub.domain.service import default_institution
from hub.errors import BadInput
from hub.pulled import submit_for, transition_for
from schema.lifecycle import VERBS, ReportState, Verb
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
    """What ``check_references`` and ``institution_exists`` look up, read once per import."""

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


@dataclass(slots=True)
class _Report:
    """A report being walked to the node's state, as ``update_report`` would leave it."""

    id: uuid.UUID
    state: ReportState
    institution: str
    version: int = 1
    archive_reason: str | None = None
    dispositions: int = 0


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
    report = _Report(uuid.uuid4(), ReportState.SUBMITTED, default_institution(submit.region_code))
    plan.submitted += 1
    plan.history.append((report.id, 1, Verb.SUBMIT.value, None, ReportState.SUBMITTED.value, None))
    if submit.reporter is not None:
        r = submit.reporter
        plan.reporters.append((report.id, r.name, r.nik, r.phone, r.email))
    _walk(change, report, reference, plan)
    plan.reports.append(
        (
            report.id, submit.kind.value,
            submit.complaint_sub_kind.value if submit.complaint_sub_kind else None,
            submit.title.strip(), submit.content.strip(), submit.incident_date, submit.location,
            submit.latitude, submit.longitude, submit.topic_id, list(submit.tags),
            submit.channel.value, submit.privacy.anonymous, submit.privacy.confidential,
            submit.region_code, report.institution, report.state.value, report.archive_reason,
            report.version, CURRENT_SLA_VERSION, change.external_id,
        )
    )  # fmt: skip


def _walk(change: ExternalChange, report: _Report, reference: Reference, plan: Plan) -> None:
    """``Ingest._apply_once`` from SUBMITTED on, for a report it has just submitted."""
    if report.state in change.agrees_with:
        plan.unchanged += 1
        return
    if change.state is None:
        plan.review(change, f"unmapped status {change.raw_state!r}", report.id)
        return
    verbs = verbs_between(report.state, change.state)
    if verbs is None:
        reason = f"no move from {report.state.value} to {change.state.value}"
        plan.review(change, reason, report.id)
        return
    for verb in verbs:
        try:
            command = transition_for(verb, report.id, change)
            validate(command)
            if isinstance(command, Dispose) and command.institution_code not in (
                reference.institutions
            ):
                raise BadInput(
                    f"institutionCode {command.institution_code!r} is not known to the hub"
                )
        except BadInput as error:
            plan.review(change, f"{verb.value}: {error.message}", report.id)
            return
        previous = report.state
        report.archive_reason = None
        match command:
            case Dispose():
                report.dispositions += 1
                plan.dispositions.append(
                    (report.id, report.dispositions, report.institution,
                     command.institution_code, command.note)
                )  # fmt: skip
                report.institution = command.institution_code
            case FollowUp():
                ord_ = len(plan.follow_ups)
                plan.follow_ups.append((ord_, report.id, report.institution, command.content))
            case Archive():
                report.archive_reason = command.reason.value
        report.state = VERBS[verb].target
        report.version += 1
        note = getattr(command, "note", None)
        plan.history.append(
            (report.id, report.version, verb.value, previous.value, report.state.value, note)
        )
    plan.moved += 1


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
