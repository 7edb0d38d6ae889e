"""Auto-close: a report quiet for 10 working days after a follow-up is completed.

"Quiet" means the report is IN_FOLLOW_UP and its last change was a follow-up: no
reply from the reporter (a reopening) or an admin (a re-disposition) since. The
close goes through the one write path, ``ReportService.execute(Complete(...))``,
as the SYSTEM actor (a hub job, so ``everywhere``) on behalf of the node handling
the report, with the version it read as ``expected_version``: a reply that lands
in between wins, and the close is recorded, published and synced like any other
change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from hub.domain.commands import Actor, Complete
from hub.domain.service import ReportService
from hub.errors import InvalidTransition, VersionConflict
from hub.ministry.calendar import CalendarStore
from hub.ministry.projection import RollupProjection
from hub.ministry.settings import MinistrySettings
from hub.outages import Outage, is_outage
from hub.store.database import Database
from schema.calendar import wib_date
from schema.report import ActorRole

_log = logging.getLogger(__name__)

AUTO_CLOSE_NOTE = "Ditutup otomatis: tidak ada tanggapan dalam 10 hari kerja."


def _now() -> datetime:
    return datetime.now(UTC)


async def _unless_stopped(work: Awaitable[object], stop: asyncio.Event) -> bool:
    """Runs ``work`` unless ``stop`` is set first (then cancels it); whether it finished."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    done, _ = await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    loser = stopped if task in done else task
    loser.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await loser
    if task in done:
        task.result()
        return True
    return False


class AutoCloser:
    """Syncs the calendar once, then closes due reports every ``auto_close_interval``."""

    def __init__(
        self,
        db: Database,
        service: ReportService,
        settings: MinistrySettings,
        *,
        clock: Callable[[], datetime] = _now,
        sync_calendar: bool = True,
        projection: RollupProjection | None = None,
    ) -> None:
        self._db = db
        self._projection = projection or RollupProjection(db)
        self._service = service
        self._settings = settings
        self._clock = clock
        self._sync_calendar = sync_calendar
        self.settled = asyncio.Event()
        """Set once the calendar is synced and the first pass is over (or the loop stopped):
        from then on the loop is quiet until its next interval."""

    async def run(self, stop: asyncio.Event) -> None:
        """Runs until ``stop`` is set. A failed pass (a database hiccup, a bug) is logged
        and tried again after the interval, like the hub's other loops."""
        try:
            await self._run(stop)
        finally:
            self.settled.set()

    async def _run(self, stop: asyncio.Event) -> None:
        interval = self._settings.auto_close_interval
        synced = not self._sync_calendar
        database = Outage("auto-close: PostgreSQL", logger=_log)
        while not stop.is_set():
            try:
                if not synced:
                    if not await _unless_stopped(CalendarStore(self._db).sync(), stop):
                        return
                    synced = True
                while await self.close_due() == self._settings.auto_close_batch:
                    if stop.is_set():
                        return
                database.recovered()
            except Exception as error:
                if is_outage(error):
                    database.failed(error)
                else:
                    _log.exception("auto-close pass failed; next try in %ss", interval)
            self.settled.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)

    async def close_due(self) -> int:
        """One pass: closes up to ``auto_close_batch`` due reports; returns how many it closed."""
        today = wib_date(self._clock())
        batch = self._settings.auto_close_batch
        # The due reports are read from the projected facts: bring them up to date, so a
        # change made a moment ago (a reply, the last pass's closes) is seen.
        await self._projection.catch_up()
        due = await self._db.fetch("ministry_auto_close_due", today, batch)
        closed = 0
        for row in due:
            report_id, version = row["report_id"], row["version"]
            try:
                await self._service.execute(
                    Complete(report_id, AUTO_CLOSE_NOTE),
                    Actor(row["node_code"], ActorRole.SYSTEM, everywhere=True),
                    idempotency_key=f"auto-close:{report_id}:{version}",
                    expected_version=version,
                )
                closed += 1
            except (VersionConflict, InvalidTransition) as error:
                # Someone replied or acted after we read the report: their change wins.
                _log.info("auto-close of %s skipped: %s", report_id, error.message)
        if closed:
            _log.info("auto-closed %d report(s) quiet for 10 working days", closed)
        return closed
