"""The outbox relay: moves committed outbox rows to the bus, in order, never losing one.

Rows are split into slices by report id. A relay holds slices through session
advisory locks, so one report's events are always sent by one relay in outbox
order, while several hub processes share the work: every few seconds each relay
counts the live relays (their lock connections, named ``sp4n-relay`` in
``pg_stat_activity``) and holds its fair share, ``ceil(16 / live)`` slices,
letting go of what is above it and taking free slices up to it. So a relay that
joins gets slices as the others let go of theirs, and the slices of one that
dies (its connection, and so its locks, gone) are taken by the others. A row is marked published
only after the broker acknowledged it: a crash in between sends it again (a
duplicate, which sinks drop by event id), never loses it.

A row holds the record as its writer encoded it; the relay sends those bytes
without parsing or encoding them again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

import asyncpg

from hub import traces
from hub.outages import Outage, is_outage
from hub.store.connection import Session
from hub.store.database import Database
from hub.sync.bus import Bus, BusError
from schema.envelope import Envelope, encode
from schema.events import parse_event

_log = logging.getLogger(__name__)

SLICES = 16
_LOCK_CLASS = 0x5F4A  # first key of the two-key advisory locks
APPLICATION_NAME = "sp4n-relay"
"""What a relay's lock connection is called in ``pg_stat_activity``: how relays count each other."""


def fair_share(live: int) -> int:
    """The slices one of ``live`` relays holds at most."""
    return -(-SLICES // max(live, 1))


class OutboxRelay:
    """Publishes the outbox to the events and the state topics."""

    def __init__(
        self,
        db: Database,
        bus: Bus,
        *,
        batch_size: int = 500,
        idle_wait: float = 0.02,
        rebalance_every: float = 2.0,
    ) -> None:
        self._db = db
        self._bus = bus
        self._batch_size = batch_size
        self._idle_wait = idle_wait
        self._rebalance_every = rebalance_every
        self._next_rebalance = 0.0
        self.published = 0
        self.slices: list[int] = []

    async def run(self, stop: asyncio.Event) -> None:
        """Relays until ``stop`` is set; the dedicated connection holds the slice locks.

        A lost connection loses its locks with it: the relay lets go of its slices,
        waits the database out and claims them anew (another relay may have them by
        then). A broker that cannot take a batch leaves it unpublished for later.
        """
        database = Outage("outbox relay: PostgreSQL", logger=_log)
        broker = Outage("outbox relay: Kafka", logger=_log)
        session: Session | None = None
        try:
            while not stop.is_set():
                sent = 0
                try:
                    if session is None:
                        session = self._db.on(
                            await asyncpg.connect(
                                self._db.url,
                                server_settings={"application_name": APPLICATION_NAME},
                            )
                        )
                        self._next_rebalance = 0.0
                    await self._rebalance(session)
                    database.recovered()
                    sent = await self.relay_once(session) if self.slices else 0
                    broker.recovered()
                except BusError as error:
                    # The batch rolled back and stays unpublished; try again later.
                    await broker.wait(error, stop)
                    continue
                except Exception as error:
                    if not is_outage(error):
                        raise
                    self.slices = []
                    if session is not None:
                        session.raw.terminate()
                        session = None
                    await database.wait(error, stop)
                    continue
                if sent == 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self._idle_wait)
        finally:
            if session is not None:
                try:
                    await session.execute("relay_release_slices")
                except Exception as error:  # closing anyway; the locks die with the session
                    _log.debug("releasing the relay's slices failed: %s", error)
                finally:
                    await session.raw.close()

    async def _rebalance(self, session: Session) -> None:
        """Every ``rebalance_every`` seconds: holds this relay's fair share of the
        slices, letting go of the ones above it and taking free ones up to it."""
        now = asyncio.get_running_loop().time()
        if now < self._next_rebalance:
            return
        self._next_rebalance = now + self._rebalance_every
        share = fair_share(await session.fetchval("relay_live_count", APPLICATION_NAME))
        while len(self.slices) > share:
            # Between batches: nothing of the slice is in flight.
            await session.fetchval("relay_release_slice", _LOCK_CLASS, self.slices.pop())
        for s in range(SLICES):
            if len(self.slices) >= share:
                break
            if s not in self.slices and await session.fetchval("relay_try_slice", _LOCK_CLASS, s):
                self.slices.append(s)

    async def relay_once(self, session: Session) -> int:
        """Publishes one batch; returns how many rows it published."""
        topics = self._bus.topics
        async with session.transaction():
            rows = await session.fetch("relay_batch", self.slices, SLICES, self._batch_size)
            if not rows:
                return 0
            envelopes = [stored_envelope(row) for row in rows]
            # Events first: the state topic must never be ahead of the history.
            with traces.publishing(envelopes, topics.events):
                await self._bus.producer.publish(topics.events, envelopes)
                await self._bus.producer.publish(topics.state, envelopes)
            await session.execute("relay_mark_published", [r["id"] for r in rows])
        self.published += len(rows)
        return len(rows)


def stored_envelope(row: asyncpg.Record) -> Envelope:
    """An outbox row's record as its writer stored it (columns as ``relay_batch``
    names them); a row from before migration 0010 holds none and is encoded from
    its ``data``, with the one encoder."""
    key: bytes | None = row["record_key"]
    if key is None:
        return encode(parse_event(str(row["event_id"]), json.loads(row["data"])))
    return Envelope(
        key,
        row["record_value"],
        list(zip(row["record_header_names"], row["record_header_values"], strict=True)),
    )
