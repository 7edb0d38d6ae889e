"""Duplicates across systems: one complaint filed at two nodes (or twice at one).

``candidates`` lists pairs of open reports of one region whose titles are alike,
scored by title, content and place within a time window (``duplicates.sql``
says how). ``mark`` settles a pair an admin confirmed: the later report is
archived with reason DUPLICATE through ``ReportService`` like every change, so
every node involved hears of it, then linked to its original, which takes over
its external references so the nodes that filed the duplicate follow the
original from then on.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hub.domain.commands import Actor, Archive
from hub.domain.service import ReportService
from hub.errors import BadInput, no_such_report
from hub.store.database import Database
from hub.store.rows import ReportRow
from schema.lifecycle import ReportState
from schema.report import ArchiveReason

WINDOW_DAYS = 14
"""How far apart two reports may be submitted and still be one complaint, by default."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """Two reports that may be one complaint: ``duplicate`` was submitted after ``original``."""

    original: ReportRow
    duplicate: ReportRow
    score: float
    """0..1, the weighted sum of the three below."""
    title_score: float
    content_score: float
    distance_km: float | None
    """None when either report has no coordinates."""


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class Duplicates:
    db: Database
    service: ReportService
    clock: Callable[[], datetime] = _now

    async def candidates(
        self, *, first: int, min_score: float, within_days: int = WINDOW_DAYS, days: int = 90
    ) -> list[Candidate]:
        """Pairs whose later report came in the last ``days``, best first."""
        if not 0 <= min_score <= 1:
            raise BadInput(f"minScore must be between 0 and 1, got {min_score}")
        if not 1 <= within_days <= 90:
            raise BadInput(f"withinDays must be between 1 and 90, got {within_days}")
        since = self.clock() - timedelta(days=days)
        pairs = await self.db.fetch("duplicate_candidates", since, within_days, min_score, first)
        ids = list({r["original_id"] for r in pairs} | {r["duplicate_id"] for r in pairs})
        rows = {r.id: r for r in await self.db.rows(ReportRow, "reports_by_ids", ids)}
        return [
            Candidate(
                rows[p["original_id"]],
                rows[p["duplicate_id"]],
                p["score"],
                p["title_score"],
                p["content_score"],
                p["distance_km"],
            )
            for p in pairs
        ]

    async def mark(
        self,
        duplicate_id: uuid.UUID,
        original_id: uuid.UUID,
        actor: Actor,
        *,
        expected_version: int,
        idempotency_key: str,
    ) -> ReportRow:
        """Archives ``duplicate_id`` as a duplicate of ``original_id`` and links the two;
        the archived report. A retry with the same key finishes what a first try began."""
        if duplicate_id == original_id:
            raise BadInput("a report cannot duplicate itself")
        original = await self.db.row(ReportRow, "report_by_id", original_id)
        if original is None:
            raise no_such_report(original_id)
        if original.state is ReportState.ARCHIVED:
            raise BadInput(
                f"report {original_id} is archived: mark duplicates of the report still open"
            )
        seen = await self.db.fetchval("duplicate_of", original_id)
        if seen is not None:
            raise BadInput(f"report {original_id} is itself a duplicate of {seen}: use that one")
        archived = await self.service.execute(
            Archive(duplicate_id, ArchiveReason.DUPLICATE, f"Duplikat dari laporan {original_id}"),
            actor,
            idempotency_key=idempotency_key,
            expected_version=expected_version,
        )
        await self.db.execute(
            "duplicate_link", duplicate_id, original_id, self.clock(), actor.client_id or ""
        )
        return archived
