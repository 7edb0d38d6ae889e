"""The reporter's voice pulled from a node: replies to follow-ups and the rating, given
in the node's own app, become the hub's own commands (``Reply`` through
``ReportService``, a rating through ``Ratings``), acting as the node's system.

A node lists every reply a report holds each time the report changes there, so a
reply is recorded once: its node id keys the command (a re-pull within the
idempotency window gets the first answer), and a reply whose words the report
already holds from that node is not recorded again (a later pull, or the node's app
having sent it to the hub itself). A report is rated once, so a rating the report
already has is left alone. No identity travels with either.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from connectors.change import ExternalChange
from hub.domain.commands import Actor, Reply
from hub.domain.ratings import Ratings
from hub.domain.service import ReportService
from hub.errors import BadInput, InvalidTransition
from hub.store.database import Database
from hub.store.rows import ReportRow
from schema.lifecycle import ReportState, Verb, can_apply

_log = logging.getLogger(__name__)

Review = Callable[[ExternalChange, str], Awaitable[None]]
"""Holds a change for the review queue with a reason."""


def reply_key(change: ExternalChange, reply_id: str) -> str:
    """The idempotency key of recording one of a node's replies."""
    digest = hashlib.sha256(
        f"{change.node}\x00{change.external_id}\x00{reply_id}".encode()
    ).hexdigest()
    return f"pull-reply-{digest[:40]}"


@dataclass(slots=True)
class ReporterVoice:
    """Records what a pulled change says the reporter said."""

    db: Database
    service: ReportService
    ratings: Ratings

    async def replies(
        self, report: ReportRow, change: ExternalChange, actor: Actor, review: Review | None
    ) -> ReportRow:
        """Records the node's replies the report does not hold yet, oldest first, while
        the life cycle lets a reply in; ``review`` None: the rest wait (the state moves
        come first), else they are held for review. Returns the report as it is now."""
        if not change.replies:
            return report
        rows = await self.db.fetch("replies_from_node", report.id, change.node)
        held = Counter(r["content"] for r in rows)
        for reply in change.replies:
            if held[reply.content] > 0:
                held[reply.content] -= 1
                continue
            if not can_apply(Verb.REPLY, report.state):
                if review is not None:
                    await review(change, f"reply {reply.reply_id}: the report is "
                                 f"{report.state.value}; a reply answers a follow-up")  # fmt: skip
                    return report
                continue
            try:
                report = await self.service.execute(
                    Reply(report.id, content=reply.content),
                    actor,
                    idempotency_key=reply_key(change, reply.reply_id),
                    expected_version=report.version,
                )
            except (BadInput, InvalidTransition) as error:
                if review is not None:
                    await review(change, f"reply {reply.reply_id}: {error.message}")
                return report
        return report

    async def rating(
        self, report: ReportRow, change: ExternalChange, actor: Actor, review: Review
    ) -> None:
        """Records the node's rating if the report has none yet."""
        if change.rating is None:
            return
        if await self.db.fetch("rating_by_reports", [report.id]):
            return  # rated once already: here, at the node before, or through GraphQL
        if report.state is not ReportState.COMPLETED:
            await review(change, f"rating: the report is {report.state.value}, not COMPLETED")
            return
        rating = change.rating
        try:
            await self.ratings.rate(report.id, rating.score, rating.comment, actor)
        except BadInput as error:
            _log.info("node %s report %s: rating not recorded: %s",
                      change.node, change.external_id, error.message)  # fmt: skip
