"""Bounded storage: the retention jobs, a loop of the app like the audit sealer.

What the hub needs only for a while is deleted once its window has passed:
published outbox rows (never one the roll-ups' projection has not passed: it reads
the outbox tail from its stored horizon), the sinks' inbox (once the events topic
no longer holds the event, no redelivery can come), idempotency keys (the window
the API promises for a retry) and resolved review items. Old audit entries are not
deleted but moved into archived segments (``hub.security.audit``), handed in here
as one more ``Job``, as are people's ended sessions and idle login counts
(``hub.security.sessions.session_jobs``).

Each job works in batches, one statement and so one transaction each, and goes on
while a batch found rows: a pass stopped or cancelled between or during batches
leaves every table as a finished batch left it. Every hub process runs the jobs;
one at a time prunes a given table (an advisory lock per batch), the others find
it held and leave it to that one. What each job did is in ``/metrics``
(``JobStats``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from hub.outages import Outage, is_outage
from hub.store.database import Database

_log = logging.getLogger(__name__)

RETRY_SECONDS = 60.0
"""How soon a pass in which a job failed is tried again."""
BUSY_TRIES, BUSY_PAUSE = 20, 0.25
"""A job whose table another process holds is tried again this often, this far apart."""


class Job(Protocol):
    """One kind of row the hub keeps for a while."""

    @property
    def table(self) -> str:
        """The table the job bounds (the label in ``/metrics``)."""

    async def step(self) -> int | None:
        """Deletes (or archives) one batch, in a transaction of its own: how many rows
        went (0: nothing is due), or None when another process holds the table now."""


@dataclass(slots=True)
class Prune:
    """Deletes rows past their window with one named statement per batch."""

    db: Database
    table: str
    query: str
    """A named statement (the store's in ``retention.sql``, a room's beside its tables):
    ($1 window in days, $2 rows) -> rows deleted, NULL when another process holds the
    table."""
    days: int
    batch: int

    async def step(self) -> int | None:
        async with self.db.session() as session:
            gone = await session.fetchval(self.query, self.days, self.batch)
        return None if gone is None else int(gone)


def store_jobs(
    db: Database,
    *,
    outbox_days: int,
    inbox_days: int,
    idempotency_days: int,
    review_days: int,
    batch: int,
) -> list[Job]:
    """The store's own jobs, with their windows in days."""
    return [
        Prune(db, "outbox", "retention_outbox", outbox_days, batch),
        Prune(db, "sink_inbox", "retention_inbox", inbox_days, batch),
        Prune(db, "idempotency_keys", "retention_idempotency", idempotency_days, batch),
        Prune(db, "review_queue", "retention_review", review_days, batch),
    ]


@dataclass(slots=True)
class JobStats:
    """What one job has done in this process."""

    deleted: int = 0
    """Rows deleted (archived, for the audit log) since the process started."""
    errors: int = 0
    """Passes of this job that failed (an outage or a fault)."""
    last_run: float | None = None
    """When (Unix time) the job last finished a pass with nothing more due."""


@dataclass(slots=True)
class Retention:
    """Runs the jobs: all of them every ``interval`` seconds, each until nothing is due."""

    jobs: Sequence[Job]
    interval: float = 3600.0
    stats: dict[str, JobStats] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.stats = {job.table: JobStats() for job in self.jobs}

    async def run_job(self, job: Job, stop: asyncio.Event | None = None) -> int:
        """Runs ``job`` batch by batch until nothing is due (or ``stop``); rows it took."""
        stats = self.stats[job.table]
        total = 0
        busy = 0
        while stop is None or not stop.is_set():
            gone = await job.step()
            if gone is None and busy < BUSY_TRIES:  # held elsewhere (the audit sealer)
                busy += 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for((stop or asyncio.Event()).wait(), BUSY_PAUSE)
                continue
            if not gone:
                stats.last_run = time.time()
                break
            stats.deleted += gone
            total += gone
        return total

    async def run_once(self, stop: asyncio.Event | None = None) -> dict[str, int]:
        """One pass of every job; the rows each took. Raises the first failure."""
        return {job.table: await self.run_job(job, stop) for job in self.jobs}

    async def run(self, stop: asyncio.Event) -> None:
        """Passes every ``interval`` seconds; an outage is waited out and the pass begun
        again once the database answers, a fault is logged and tried within a minute."""
        database = Outage("retention: PostgreSQL", logger=_log)
        while not stop.is_set():
            pause = self.interval
            for job in self.jobs:
                if stop.is_set():
                    return
                try:
                    await self.run_job(job, stop)
                    database.recovered()
                except Exception as error:
                    self.stats[job.table].errors += 1
                    if is_outage(error):
                        await database.wait(error, stop)
                        pause = 0  # again at once: jobs done already find nothing due
                        break
                    # A bug: say so loudly; this table's rows wait for the next pass.
                    _log.exception("retention of %s failed", job.table)
                    pause = min(pause, RETRY_SECONDS)
            if pause:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), pause)
