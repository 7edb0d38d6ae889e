"""The review desk: admins resolve the changes the hub held back from a node.

A pulled change the hub would not guess at (an unmapped status, a move the life
cycle does not allow, a submission it could not make) waits in the review queue.
An admin resolves an item one of two ways:

- **apply** it as a canonical state (the shortest run of verbs there) or as one
  verb, through ``ReportService`` like every change, recorded as the node's own
  system's (so it is not written back to that node, which already shows it);
  optionally the hub **remembers** that the node's label means that state, and
  applies the next such status without review (``LearnedVocabulary``);
- **dismiss** it, saying why.

Held changes of one report are applied in the order they came: an item with an
earlier open item of the same report is refused until that one is resolved. Every
step of an applied item is checked before the first is made; should a step still
fail (another writer moved the report meanwhile), the item stays open and resolving
it again goes on from where the report is then.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from connectors.change import ChangePage, ExternalChange
from connectors.transitions import verbs_between
from hub.domain.commands import Actor, Dispose, for_verb, validate
from hub.domain.service import ReportService
from hub.errors import BadInput, NotFound
from hub.security.audit import AuditLog
from hub.store.database import Database
from hub.store.rows import ReportRow, ReviewRow, typed
from schema.lifecycle import ReportState, Verb
from schema.report import ActorRole, ArchiveReason

NOTE_LIMIT = 2000


class ReviewAction(enum.Enum):
    APPLY = "APPLY"
    DISMISS = "DISMISS"


@dataclass(frozen=True, slots=True)
class Resolution:
    """What an admin decided about one review item."""

    item_id: int
    action: ReviewAction
    state: ReportState | None = None
    """APPLY: the canonical state the node's status means."""
    verb: Verb | None = None
    """APPLY: or the one verb it means (instead of a state)."""
    note: str | None = None
    """Why (required to dismiss); kept with the item and on the applied changes."""
    institution_code: str | None = None
    """A disposition on the way: the institution it goes to."""
    archive_reason: ArchiveReason | None = None
    """An archive on the way: its reason (UNCLEAR when none)."""
    remember: bool = False
    """APPLY with a state: the node's label means that state from now on."""

    def check(self) -> None:
        """BadInput naming what does not fit together."""
        if self.note is not None and len(self.note) > NOTE_LIMIT:
            raise BadInput(f"note is longer than {NOTE_LIMIT} characters")
        if self.action is ReviewAction.DISMISS:
            if not (self.note and self.note.strip()):
                raise BadInput("dismissing a review item needs a note saying why")
            if self.state or self.verb or self.remember:
                raise BadInput("a dismissed item applies nothing: no state, verb or remember")
            return
        if (self.state is None) == (self.verb is None):
            raise BadInput("applying a review item needs a state or a verb, exactly one")
        if self.verb is Verb.SUBMIT:
            raise BadInput("SUBMIT is not a move of a held change; apply a state or a verb")
        if self.remember and self.state is None:
            raise BadInput("remember needs a state: a node's status label means a state")


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class ReviewDesk:
    """Resolves review items, one write path and one audit log with everything else."""

    db: Database
    service: ReportService
    audit: AuditLog
    clock: Callable[[], datetime] = _now

    async def resolve(self, decision: Resolution, client_id: str) -> ReviewRow:
        """Applies or dismisses one item and closes it; the item as it was closed."""
        decision.check()
        item = await self.db.row(ReviewRow, "review_item", decision.item_id)
        if item is None:
            raise NotFound(f"no review item {decision.item_id}")
        _still_open(item)
        if decision.action is ReviewAction.APPLY:
            await self._apply(item, decision, client_id)
        async with self.db.transaction() as session:
            closed = await session.fetchrow(
                "review_resolve", item.id, self.clock(), decision.action.value,
                decision.note, client_id,
            )  # fmt: skip
            if closed is None:  # another admin closed it while this one applied
                latest = await session.fetchrow("review_item", item.id)
                assert latest is not None
                _still_open(typed(ReviewRow, latest))
            if decision.remember:
                assert decision.state is not None  # checked
                await session.fetchval(
                    "vocabulary_learn", item.node_code, item.raw_state, decision.state.value,
                    self.clock(), client_id, item.id,
                )  # fmt: skip
            await self.audit.record(
                client_id=client_id,
                node_code=item.node_code,
                action=f"REVIEW_{decision.action.value}",
                report_id=item.report_id,
                outcome="OK" if not decision.remember else "OK:REMEMBERED",
                session=session,
            )
        assert closed is not None
        return typed(ReviewRow, closed)

    async def _apply(self, item: ReviewRow, decision: Resolution, client_id: str) -> None:
        if item.report_id is None:
            raise BadInput(
                f"review item {item.id} holds no report (it could not be submitted: "
                f"{item.reason}); dismiss it once the node's data is fixed"
            )
        earlier = await self.db.fetchval(
            "review_earlier_open", item.report_id, item.received_at, item.id
        )
        if earlier is not None:
            raise BadInput(
                f"review item {earlier} holds an earlier change of the same report: "
                "resolve it first"
            )
        report = await self.db.row(ReportRow, "report_by_id", item.report_id)
        assert report is not None  # review_queue references reports
        verbs = _path(report, decision)
        said = decision.note or (
            f"status at node {item.node_code}: {item.raw_state} (review item {item.id})"
        )
        steps = [
            for_verb(
                verb,
                report.id,
                note=decision.note,
                said=said,
                institution_code=decision.institution_code,
                archive_reason=decision.archive_reason,
            )
            for verb in verbs
        ]
        # Every step is checked before the first is applied, so a resolution that cannot
        # be carried out applies none of it.
        for step in steps:
            validate(step)
            if isinstance(step, Dispose) and not await self.db.fetchval(
                "institution_known", step.institution_code
            ):
                raise BadInput(
                    f"institutionCode {step.institution_code!r} is not known to the hub "
                    "or is deactivated"
                )
        # The change came from the node's system; the admin only said what it means.
        actor = Actor(item.node_code, ActorRole.NODE_SYSTEM, client_id, everywhere=True)
        for step in steps:
            report = await self.service.execute(
                step, actor, idempotency_key=f"review-{item.id}-{step.verb.value.lower()}",
                expected_version=report.version,
            )  # fmt: skip


def _path(report: ReportRow, decision: Resolution) -> tuple[Verb, ...]:
    """The verbs an applied item takes: its verb, or the shortest run to its state."""
    if decision.verb is not None:
        return (decision.verb,)
    assert decision.state is not None  # checked
    verbs = verbs_between(report.state, decision.state)
    if verbs is None:
        raise BadInput(
            f"no move from {report.state.value} to {decision.state.value}: "
            "the life cycle has no way there"
        )
    return verbs


def _still_open(item: ReviewRow) -> None:
    if item.resolved_at is not None:
        raise BadInput(
            f"review item {item.id} is already resolved ({item.resolution} by "
            f"{item.resolved_by} at {item.resolved_at.isoformat()})"
        )


@dataclass(slots=True)
class LearnedVocabulary:
    """The status labels admins taught the hub, applied to what connectors leave unmapped."""

    db: Database

    async def teach(self, node: str, page: ChangePage) -> ChangePage:
        """``page`` with every unmapped status the node's learned labels know mapped."""
        if all(c.state is not None for c in page.changes):
            return page  # the common case costs no query
        rows = await self.db.fetch("vocabulary_of_node", node)
        learned = {r["raw_state"]: ReportState(r["state"]) for r in rows}
        if not learned:
            return page
        return replace(page, changes=tuple(_taught(page.changes, learned)))


def _taught(
    changes: Iterable[ExternalChange], learned: dict[str, ReportState]
) -> Iterable[ExternalChange]:
    for change in changes:
        state = learned.get(change.raw_state) if change.state is None else None
        if state is None:
            yield change
        else:
            yield replace(change, state=state, agrees_with=change.agrees_with | {state})
