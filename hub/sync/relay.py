"""The outbox relay: moves committed outbox rows to the bus, in order, never losing one.

Rows are split into slices by report id. A relay holds slices through session
advisory locks, so one report's events are always sent by one relay in outbox
order, while several hub processes share the work. A row is marked published
only after the broker acknowledged it: a crash in between sends it again (a
duplicate, which sinks drop by event id), never loses it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

import asyncpg

from hub.store.database import Database
from hub.sync.bus import Bus, BusError
from hub.sync.envelope import Envelope, encode
from schema.events import parse_event

_log = logging.getLogger(__name__)

SLICES = 16
_LOCK_CLASS = 0x5F4A  # first key of the two-key advisory locks


class OutboxRelay:
    """Publishes the outbox to the events and the state topics."""

    def __init__(
        self,
        db: Database,
        bus: Bus,
        *,
        batch_size: int = 500,
        idle_wait: float = 0.02,
    ) -> None:
        self._db = db
        self._bus = bus
        self._batch_size = batch_size
        self._idle_wait = idle_wait
        self.published = 0
        self.slices: list[int] = []

    async def run(self, stop: asyncio.Event) -> None:
        """Relays until ``stop`` is set; the dedicated connection holds the slice locks."""
        conn = await asyncpg.connect(self._db.url)
        backoff = self._idle_wait
        try:
            while not stop.is_set():
                await self._claim_free_slices(conn)
                try:
                    sent = await self.relay_once(conn) if self.slices else 0
                    backoff = self._idle_wait
                except BusError as error:
                    # The batch rolled back and stays unpublished; try again later.
                    backoff = min(backoff * 2 + 0.1, 5.0)
                    _log.warning(
                        "outbox relay cannot publish (%s); retrying in %.1f s", error, backoff
                    )
                    sent = 0
                if sent == 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), backoff)
        finally:
            try:
                await conn.execute(self._db.sql["relay_release_slices"])
            finally:
                await conn.close()

    async def _claim_free_slices(self, conn: asyncpg.Connection) -> None:
        """Takes every slice no other relay holds (e.g. after one stopped)."""
        if len(self.slices) == SLICES:
            return
        for s in range(SLICES):
            if s not in self.slices and await conn.fetchval(
                self._db.sql["relay_try_slice"], _LOCK_CLASS, s
            ):
                self.slices.append(s)

    async def relay_once(self, conn: asyncpg.Connection) -> int:
        """Publishes one batch; returns how many rows it published."""
        topics = self._bus.topics
        async with conn.transaction():
            rows = await conn.fetch(
                self._db.sql["relay_batch"], self.slices, SLICES, self._batch_size
            )
            if not rows:
                return 0
            envelopes: list[Envelope] = []
            for row in rows:
                event = parse_event(str(row["event_id"]), json.loads(row["data"]))
                envelopes.append(encode(event))
            # Events first: the state topic must never be ahead of the history.
            await self._bus.producer.publish(topics.events, envelopes)
            await self._bus.producer.publish(topics.state, envelopes)
            await conn.execute(self._db.sql["relay_mark_published"], [r["id"] for r in rows])
        self.published += len(rows)
        return len(rows)
