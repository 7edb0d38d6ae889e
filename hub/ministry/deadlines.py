"""The SLA deadlines of single reports, read from their facts (migration 0005)."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from hub.ministry.figures import COMPLIANCE_STAGES
from hub.store.database import Database
from schema.calendar import end_of_day
from schema.sla import SlaStage


class DeadlineStatus(enum.Enum):
    NOT_STARTED = "NOT_STARTED"
    PENDING = "PENDING"
    """Running; its due time has not passed."""
    OVERDUE = "OVERDUE"
    """Running past its due time: breached at the due time."""
    MET = "MET"
    LATE = "LATE"
    """Ended after its due time: breached at the due time."""
    NOT_APPLICABLE = "NOT_APPLICABLE"
    """Can no longer end (archived first), or, for AUTO_CLOSE, not waiting on anyone."""
    NO_RULE = "NO_RULE"
    """The report's rule version has no rule for this stage."""


@dataclass(frozen=True, slots=True)
class StageDeadline:
    stage: SlaStage
    status: DeadlineStatus
    working_days: int | None
    """The limit, in working days."""
    started_at: datetime | None
    due_at: datetime | None
    """The end of the due day, WIB."""
    ended_at: datetime | None
    working_days_taken: int | None

    @property
    def breached_at(self) -> datetime | None:
        if self.status in (DeadlineStatus.OVERDUE, DeadlineStatus.LATE):
            return self.due_at
        return None


@dataclass(frozen=True, slots=True)
class ReportDeadlines:
    report_id: uuid.UUID
    rule_version: str
    stages: tuple[StageDeadline, ...]

    @property
    def overdue(self) -> bool:
        """Whether a compliance stage is running past its due time."""
        return any(
            s.status is DeadlineStatus.OVERDUE for s in self.stages if s.stage in COMPLIANCE_STAGES
        )

    @property
    def active(self) -> StageDeadline | None:
        """The running compliance stage that is due first: what the report waits on now
        (None once none runs, e.g. completed or archived)."""
        running = [
            s
            for s in self.stages
            if s.stage in COMPLIANCE_STAGES
            and s.status in (DeadlineStatus.PENDING, DeadlineStatus.OVERDUE)
            and s.due_at is not None
        ]
        return min(running, key=lambda s: (s.due_at, s.stage.value), default=None)


_PREFIX = {
    SlaStage.VERIFY: "verify",
    SlaStage.FIRST_FOLLOW_UP: "first_follow_up",
    SlaStage.COMPLETION: "completion",
    SlaStage.AUTO_CLOSE: "auto_close",
}


def _stage(row: Mapping[str, object], stage: SlaStage, today: date) -> StageDeadline:
    p = _PREFIX[stage]
    due_day = row[f"{p}_due_day"]
    assert due_day is None or isinstance(due_day, date)
    raw = str(row[f"{p}_status"])
    if raw == "OPEN":
        status = (
            DeadlineStatus.OVERDUE
            if due_day is not None and due_day < today
            else DeadlineStatus.PENDING
        )
    else:
        status = DeadlineStatus(raw)
    limit = row[f"{p}_limit"]
    started = row[f"{p}_started_at"]
    ended = row.get(f"{p}_ended_at")
    taken = row.get(f"{p}_days")
    assert limit is None or isinstance(limit, int)
    assert started is None or isinstance(started, datetime)
    assert ended is None or isinstance(ended, datetime)
    assert taken is None or isinstance(taken, int)
    return StageDeadline(
        stage=stage,
        status=status,
        working_days=limit,
        started_at=started,
        due_at=end_of_day(due_day) if due_day is not None else None,
        ended_at=ended,
        working_days_taken=taken,
    )


async def load_deadlines(
    db: Database, report_ids: Sequence[uuid.UUID], today: date
) -> list[ReportDeadlines | None]:
    """The deadlines of each report, in order; None for a report without facts yet."""
    rows = await db.fetch("ministry_facts_by_reports", list(report_ids))
    found = {
        r["report_id"]: ReportDeadlines(
            r["report_id"],
            r["rule_version"],
            tuple(_stage(dict(r), stage, today) for stage in SlaStage),
        )
        for r in rows
    }
    return [found.get(report_id) for report_id in report_ids]
