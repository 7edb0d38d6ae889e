"""Six reports of 2026 whose every figure is worked out by hand below.

Times are WIB; the figures are judged on NOW, Thursday 30 April 2026. Non-working
weekdays used: 1 and 16 January, 18-20 and 23-24 March (Nyepi, cuti bersama, Idul
Fitri), 3 April (Good Friday), 1 May.

- R1, complaint, sent Fri 13 Mar 19:00 (the Friday evening before Idul Fitri), region
  16.71: verified Mon 16 Mar; disposed to opd-16-pubmtr Wed 25 Mar; followed up Thu
  2 Apr; completed Fri 10 Apr. COMPLETED.
- R2, aspiration, sent Thu 19 Mar 10:00 (Nyepi), 16.71: verified Sat 28 Mar. VERIFIED.
- R3, information request, anonymous and confidential, sent Mon 27 Apr 09:00, 16.04:
  nothing yet. SUBMITTED.
- R4, complaint, sent Tue 10 Feb 08:00, 16.04: archived as spam Wed 11 Feb. ARCHIVED.
- R5, complaint, sent Wed 14 Jan 10:00, 16.04: verified the same day; disposed to
  opd-16-dinkes Thu 15 Jan; re-disposed to pemda-16.04 Mon 19 Jan; followed up Tue
  20 Jan. IN_FOLLOW_UP, quiet since.
- R6, aspiration, anonymous, sent Mon 5 Jan 09:00, 16.71: postponed Tue 6; verified
  Mon 12; disposed to pemda-16.71 Mon 12; followed up Tue 13; completed Wed 14;
  reopened Tue 20 Jan. IN_FOLLOW_UP.

Working days taken (limit) and outcome:

| | VERIFY (3) | FIRST_FOLLOW_UP (5) | COMPLETION (14 complaint, else 5) |
|---|---|---|---|
| R1 | 1 MET | 6 LATE (due Wed 1 Apr) | 14 MET (due Fri 10 Apr) |
| R2 | 4 LATE (due Fri 27 Mar; Sat = Mon) | not started | OVERDUE (due Tue 31 Mar) |
| R3 | PENDING (due Thu 30 Apr) | not started | PENDING (due Tue 5 May) |
| R4 | not applicable | not applicable | not applicable |
| R5 | 0 MET | 2 MET (16 Jan is a holiday) | OVERDUE (due Wed 4 Feb) |
| R6 | 5 LATE | 1 MET | 7 LATE (the first completion counts) |
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

from hub.domain.commands import (
    Actor,
    Archive,
    Command,
    Complete,
    Dispose,
    FollowUp,
    Postpone,
    Reopen,
    Submit,
    Verify,
)
from hub.domain.service import ReportService
from hub.ministry.figures import Ranking, SlaCompliance, Statistics
from hub.ministry.projection import RollupProjection
from hub.store.database import Database
from hub.store.rows import ReportRow
from schema.calendar import WIB
from schema.report import (
    ActorRole,
    ArchiveReason,
    Channel,
    ComplaintSubKind,
    PrivacyFlags,
    ReportKind,
)

NOW = datetime(2026, 4, 30, 12, 0, tzinfo=WIB)
ACTOR = Actor("16", ActorRole.INSTITUTION_ADMIN)
SECRET = "Pak Rahmat di Jalan Merdeka"
"""In every title and content: no figure or export may ever show it."""


def wib(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=WIB)


@dataclass(slots=True)
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


Answer = TypeVar("Answer", Statistics, SlaCompliance, Ranking)


def same_figures(fast: Answer, slow: Answer) -> bool:
    """The roll-ups' answer equals the raw tables' one, asked a moment later: the same
    figures, current to no later than the raw tables (which are current to the moment
    they are asked)."""
    return fast.current_to <= slow.current_to and replace(fast, current_to=slow.current_to) == slow


class Writer:
    """Applies commands through the write path at chosen moments; the roll-ups'
    projection catches up after each, unless ``project`` is False."""

    def __init__(self, db: Database, *, project: bool = True) -> None:
        self.clock = Clock()
        self.service = ReportService(db, clock=self.clock)
        self.projection = RollupProjection(db) if project else None

    async def _projected(self, report: ReportRow) -> ReportRow:
        if self.projection is not None:
            await self.projection.catch_up()
        return report

    async def submit(self, at: datetime, kind: ReportKind, region: str, **extra: Any) -> ReportRow:
        self.clock.now = at
        sub_kind = ComplaintSubKind.NON_SUPERVISORY if kind is ReportKind.COMPLAINT else None
        command = Submit(
            kind=kind,
            complaint_sub_kind=extra.pop("sub_kind", sub_kind),
            title=f"Laporan tentang {SECRET}",
            content=f"Isi laporan yang menyebut {SECRET}.",
            region_code=region,
            topic_id=301,
            channel=Channel.WEB,
            **extra,
        )
        return await self._projected(await self.service.execute(command, ACTOR))

    async def act(
        self, at: datetime, report: ReportRow, command: Command, actor: Actor = ACTOR
    ) -> ReportRow:
        self.clock.now = at
        return await self._projected(
            await self.service.execute(command, actor, expected_version=report.version)
        )


async def build(db: Database) -> dict[str, uuid.UUID]:
    """Writes R1..R6 as the module docstring tells; returns their ids."""
    w = Writer(db)
    C, A, I = ReportKind.COMPLAINT, ReportKind.ASPIRATION, ReportKind.INFORMATION_REQUEST  # noqa: E741

    r1 = await w.submit(wib(3, 13, 19), C, "16.71")
    r1 = await w.act(wib(3, 16, 9), r1, Verify(r1.id))
    r1 = await w.act(wib(3, 25, 10), r1, Dispose(r1.id, "opd-16-pubmtr"))
    r1 = await w.act(wib(4, 2, 10), r1, FollowUp(r1.id, "Jalan sudah ditambal."))
    r1 = await w.act(wib(4, 10, 8), r1, Complete(r1.id))

    r2 = await w.submit(wib(3, 19, 10), A, "16.71")
    r2 = await w.act(wib(3, 28, 8), r2, Verify(r2.id))

    r3 = await w.submit(
        wib(4, 27, 9), I, "16.04", privacy=PrivacyFlags(anonymous=True, confidential=True)
    )

    r4 = await w.submit(wib(2, 10, 8), C, "16.04", sub_kind=ComplaintSubKind.SUPERVISORY)
    r4 = await w.act(wib(2, 11, 9), r4, Archive(r4.id, ArchiveReason.SPAM))

    r5 = await w.submit(wib(1, 14, 10), C, "16.04")
    r5 = await w.act(wib(1, 14, 15), r5, Verify(r5.id))
    r5 = await w.act(wib(1, 15, 9), r5, Dispose(r5.id, "opd-16-dinkes"))
    r5 = await w.act(wib(1, 19, 9), r5, Dispose(r5.id, "pemda-16.04", "Bukan wewenang kami."))
    r5 = await w.act(wib(1, 20, 11), r5, FollowUp(r5.id, "Sedang ditangani."))

    r6 = await w.submit(wib(1, 5, 9), A, "16.71", privacy=PrivacyFlags(anonymous=True))
    r6 = await w.act(wib(1, 6, 9), r6, Postpone(r6.id, "Mohon lengkapi lokasi."))
    r6 = await w.act(wib(1, 12, 9), r6, Verify(r6.id))
    r6 = await w.act(wib(1, 12, 10), r6, Dispose(r6.id, "pemda-16.71"))
    r6 = await w.act(wib(1, 13, 10), r6, FollowUp(r6.id, "Usulan diterima."))
    r6 = await w.act(wib(1, 14, 10), r6, Complete(r6.id))
    r6 = await w.act(wib(1, 20, 10), r6, Reopen(r6.id, "Belum ada tindakan nyata."))

    return {
        "R1": r1.id,
        "R2": r2.id,
        "R3": r3.id,
        "R4": r4.id,
        "R5": r5.id,
        "R6": r6.id,
    }
