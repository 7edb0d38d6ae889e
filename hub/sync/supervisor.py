"""The sync path assembled: bus, outbox relay, node sinks and the broadcaster.

Every loop is a supervised task. Each rides out an outage of PostgreSQL or Kafka
itself (``hub.outages``); if one dies all the same, of a fault waiting would not
mend, ``on_failure`` hears about it and the hub reports itself unhealthy instead
of silently no longer syncing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any

from hub.store.database import Database
from hub.sync.broadcast import Broadcaster
from hub.sync.bus import Bus
from hub.sync.dispatch import Dispatcher
from hub.sync.relay import OutboxRelay
from hub.sync.sink import DEFAULT_CONCURRENCY, Sink, SinkWorker
from schema.envelope import SharedDecoder

_log = logging.getLogger(__name__)


class SyncSupervisor:
    def __init__(
        self,
        db: Database,
        bus: Bus,
        sinks: Sequence[Sink],
        *,
        relay: bool = True,
        broadcast: bool = True,
        concurrency: Mapping[str, int] | None = None,
        on_failure: Callable[[BaseException], None] | None = None,
    ) -> None:
        self.db = db
        self.bus = bus
        self.relay = OutboxRelay(db, bus) if relay else None
        # The sinks get a small pool of their own, so a burst of API writes queued
        # on the request pool never holds back applying changes to the nodes.
        self.sink_db = Database(db.url, min_size=1, max_size=4)
        decoder = SharedDecoder()
        self.workers = {
            s.node_code: SinkWorker(
                s,
                bus,
                self.sink_db,
                decoder=decoder,
                concurrency=(concurrency or {}).get(s.node_code, DEFAULT_CONCURRENCY),
            )
            for s in sinks
        }
        self.broadcaster = Broadcaster(bus)
        # Subscriptions are served by API processes; a worker has nobody to tell.
        self.broadcast = broadcast
        self.failure: BaseException | None = None
        self._on_failure = on_failure
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        await self.sink_db.open()
        await self.bus.start()
        starting = [w.ready for w in self.workers.values()]
        if self.broadcast:
            self._spawn("broadcaster", self.broadcaster.run(self._stop))
            starting.append(self.broadcaster.ready)
        if self.workers:
            dispatcher = Dispatcher(self.bus, self.sink_db, list(self.workers.values()))
            self._spawn("sink dispatcher", dispatcher.run(self._stop))
        if self.relay is not None:
            self._spawn("outbox relay", self.relay.run(self._stop))
        ready: asyncio.Future[list[bool]] = asyncio.ensure_future(
            asyncio.gather(*(event.wait() for event in starting))
        )
        watched: list[asyncio.Future[Any]] = [ready, *self._tasks]
        # A loop that dies while starting must fail the start, not hang it.
        await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
        if not ready.done():
            ready.cancel()
            failed = next(t for t in self._tasks if t.done())
            await self.stop()
            raise failed.exception() or RuntimeError(f"{failed.get_name()} stopped while starting")
        _log.info(
            "sync running on %s: %s, %d node sinks%s",
            self.bus.description,
            "outbox relay" if self.relay is not None else "no relay",
            len(self.workers),
            ", subscriptions" if self.broadcast else "",
        )

    async def stop(self, grace: float = 15) -> None:
        self._stop.set()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        self._tasks.clear()
        await self.bus.stop()
        await self.sink_db.close()

    def lag(self, node_code: str) -> int | None:
        worker = self.workers.get(node_code)
        return worker.stats.lag if worker else None

    def _spawn(self, name: str, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work, name=name)
        task.add_done_callback(self._supervise)
        self._tasks.append(task)

    def _supervise(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or task.exception() is None:
            return
        error = task.exception()
        assert error is not None
        # The loops wait out outages of PostgreSQL and Kafka themselves: what ends one is
        # a fault that waiting would not mend, so the process says which and stops.
        _log.critical(
            "sync task %r died of a fault it cannot wait out: %s",
            task.get_name(),
            error,
            exc_info=error,
        )
        self.failure = error
        if self._on_failure is not None:
            self._on_failure(error)
