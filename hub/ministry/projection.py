"""The ministry roll-ups as a projection of committed changes.

The write transaction writes a change, its history, its outbox row and its audit
entry, and nothing derived. A pass of ``RollupProjection`` reads the outbox rows
committed since the last pass and refreshes the SLA facts and roll-ups of their
reports (``ministry_refresh`` recomputes a report from the index and moves the
roll-ups by the difference, so projecting a report twice counts it once: the
projection is idempotent on every event, and a crash only means the next pass
does some work again).

Which rows are new is decided by ``hub.store.outbox_tail`` (by the transaction
that wrote each row, so one that commits late is not skipped); the projection
keeps the tail's horizon in ``ministry_projection``, so that any process's pass
goes on where the last one stopped.

A bulk load writes no outbox rows (the demo seed, a node's initial import): it
lists its reports in ``ministry_pending``, and a pass refreshes those too.

A pass holds the reports it refreshes, as every refresher does (``ministry_refresh``:
advisory locks that writers do not take, so a write never waits for a pass), so two
refreshes of one report never interleave; one pass runs at a time across the hub's
processes. ``current_to`` is the time every change committed before which is
counted: each ministry answer states it, and ``/metrics`` shows how far behind now
it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime

from hub.outages import Outage, is_outage
from hub.store.database import Database
from hub.store.outbox_tail import OutboxTail

_log = logging.getLogger(__name__)

PASS_ROWS = 2000
"""Outbox rows one pass reads at most: a long backlog is worked off in passes."""


@dataclass(frozen=True, slots=True)
class ProjectionState:
    current_to: datetime
    """Every change committed before this time is counted in the roll-ups."""
    lag_seconds: float
    """How far ``current_to`` is behind the database's clock now."""
    waiting: int
    """Outbox rows from the horizon on: not yet projected, or projected by a pass that
    could not yet move the horizon past them."""


@dataclass(slots=True)
class RollupProjection:
    """Keeps the ministry's facts and roll-ups current from the outbox."""

    db: Database
    interval: float = 0.2
    batch: int = PASS_ROWS
    _tail: OutboxTail | None = None

    async def project(self) -> bool | None:
        """One pass. True when it saw every committed change (the figures are current
        to the moment it looked), False when more wait, None when another process's
        pass holds the projection right now."""
        # A bulk load's reports first, in a transaction of their own: each statement
        # locks its reports in id order, and two such sets in one transaction could
        # deadlock with another refresher.
        async with self.db.session() as session:
            await session.fetchval("bulk_refresh_any_pending", self.batch)
        async with self.db.transaction() as session:
            if not await session.fetchval("projection_lock"):
                return None
            stored = int(await session.fetchval("projection_horizon"))
            if self._tail is None or self._tail.horizon != stored:
                # Another process's pass moved on meanwhile (or this is the first pass).
                self._tail = OutboxTail(stored, self.batch)
            tail = self._tail
            found = await tail.read(session)
            reports = list(found.report_ids)
            if reports:
                await session.execute("ministry_refresh", reports)
            complete = found.caught_up and not found.bulk_pending
            await session.execute(
                "projection_advance", str(found.horizon), found.at if complete else None
            )
        tail.advance(found)  # only once committed
        return complete

    async def catch_up(self) -> None:
        """Projects until every change committed before the call is counted (waiting
        for another process's pass if one holds the projection)."""
        while True:
            complete = await self.project()
            if complete:
                return
            if complete is None:  # another process's pass: let it finish
                await asyncio.sleep(0.01)

    async def state(self) -> ProjectionState:
        row = await self.db.fetchrow("projection_state")
        assert row is not None
        return ProjectionState(row["current_to"], row["lag_seconds"], row["waiting"])

    async def run(self, stop: asyncio.Event) -> None:
        """Passes every ``interval`` seconds, and at once while a backlog lasts."""
        database = Outage("ministry projection: PostgreSQL", logger=_log)
        while not stop.is_set():
            try:
                complete = await self.project()
                database.recovered()
            except Exception as error:
                if is_outage(error):
                    await database.wait(error, stop)
                else:  # a bug: say so loudly; the changes wait for the next pass
                    _log.exception("projecting the ministry roll-ups failed; next try in 5 s")
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), 5)
                continue
            if complete is not False:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.interval)
