"""The reporter's satisfaction with a completed report: 1 to 5, once per report.

A rating changes neither the report's state nor its version, so it is no verb of
the life cycle; it is checked as a change is (the caller must be involved in the
report, ``hub.domain.core.acts_on``), written with its audit entry in one
transaction, and counted for the institution that handled the report.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from hub.domain.commands import Actor
from hub.domain.core import acts_on
from hub.errors import BadInput, no_such_report
from hub.security.audit import AuditLog
from hub.store.database import Database
from hub.store.rows import RatingRow, ReportRow, typed
from schema.lifecycle import ReportState


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class Ratings:
    db: Database
    audit: AuditLog
    clock: Callable[[], datetime] = _now

    async def rate(
        self, report_id: uuid.UUID, score: int, comment: str | None, actor: Actor
    ) -> RatingRow:
        if not 1 <= score <= 5:
            raise BadInput(f"score must be 1 to 5, got {score}")
        if comment is not None and len(comment) > 2000:
            raise BadInput("comment is longer than 2000 characters")
        report = await self.db.row(ReportRow, "report_by_id", report_id)
        if report is None or not acts_on(actor, report.nodes):
            raise no_such_report(report_id)
        if report.state is not ReportState.COMPLETED:
            raise BadInput(
                f"report {report_id} is {report.state.value}: a report is rated once it is "
                "completed"
            )
        async with self.db.transaction() as session:
            row = await session.fetchrow(
                "rating_add", report_id, score, comment, actor.node_code, self.clock()
            )
            if row is None:
                raise BadInput(f"report {report_id} was rated already: once per report")
            await self.audit.record(
                client_id=actor.client_id, node_code=actor.node_code, action="RATE",
                report_id=report_id, outcome=f"OK:{score}", session=session,
            )  # fmt: skip
        return typed(RatingRow, row)
