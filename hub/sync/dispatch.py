"""One reader of the events topic per hub process, dispatching to its node sinks.

Each node's progress is its cursor in PostgreSQL (``sink_cursors``: the next offset
of each partition), written in the same transaction as the sink's inbox and version
records. The process reads the topic once, in one consumer group (shared with the
processes that serve the same nodes, ``Topics.dispatch_group``), decodes each record
once and routes it by the nodes it involves into small per-node queues, so the
broker's and this process's cost per change does not grow with the node count.

A node whose queue fills (it is down or slow) is let go: the dispatcher stops
routing to it and the node catches up alone, with a reader of its own without a
group (assigned the partitions, at its cursor), until it is back at the
dispatcher's position and rejoins. So it delays only itself.

Per-node exclusivity: the group gives each partition to one process of the same
node set, and a PostgreSQL advisory lock per node and partition (on a connection
of the dispatcher's own) keeps two processes whose node sets overlap from serving
one node's partition at once. On assignment the cursors are loaded and the
group's reader starts at the lowest of them (records below a node's cursor are
skipped for it). On revocation (and on losing the locks, or stopping) the queued
work is dropped and each batch in hand is given up before its next call to the node:
the calls already out finish, what they settled is recorded without moving the
cursor, and the next owner reads the batch again from the cursor (at least once: the
inbox and the version guard drop what was settled, the intents of the calls that
were cut short are reconciled). So a hand-over waits for one call per lane, not for
a backlog's batch at a slow node. The group's committed offsets follow the lowest
cursor, for the tools that read them; the cursors decide.

The first time a node has no cursor it starts where its own consumer group (the
shape before the dispatcher, ``Topics.sink_group``) had committed, or at the
beginning of the topic.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from collections import deque
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field

import asyncpg

from hub.outages import Outage, is_outage
from hub.store.connection import Session
from hub.store.database import Database
from hub.sync.bus import Bus, BusError, Consumer, Message
from hub.sync.sink import SinkWorker
from schema.envelope import EnvelopeError

_log = logging.getLogger(__name__)

_LOCK_CLASS = 0x5F4B  # first key of the (node, partition) advisory locks
APPLICATION_NAME = "sp4n-dispatch"
"""What a dispatcher's lock connection is called in ``pg_stat_activity``."""
_CLOSE_WAIT = 5.0
"""How long stopping waits for PostgreSQL to let the node locks go before it cuts the
connection (the locks die with it)."""


@dataclass(slots=True)
class _Batch:
    messages: list[Message]
    upto: dict[int, int]
    epoch: int


@dataclass(slots=True)
class _Node:
    """One node's place in the dispatch."""

    worker: SinkWorker
    pending: deque[_Batch] = field(default_factory=deque)
    queued: int = 0
    """Messages in ``pending``."""
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    served: set[int] = field(default_factory=set)
    """Partitions this process serves the node on (their lock held here)."""
    applied: dict[int, int] = field(default_factory=dict)
    """Next offset of each served partition dealt with (recorded, or not the node's)."""
    routed: dict[int, int] = field(default_factory=dict)
    """Next offset of each served partition handed to ``pending``."""
    durable: dict[int, int] = field(default_factory=dict)
    """What ``sink_cursors`` holds, as far as this process wrote or read it."""
    busy: bool = False
    alone: bool = False
    """Let go by the dispatcher: catching up with a reader of its own."""
    let_go: int = 0
    """Times the node was let go (down or slow)."""
    reading: Outage | None = None
    """The broker as its own reader finds it (kept across tries, for the backoff)."""

    @property
    def code(self) -> str:
        return self.worker.sink.node_code


class Dispatcher:
    """Reads the events topic for ``workers`` until stopped."""

    def __init__(
        self,
        bus: Bus,
        db: Database,
        workers: Sequence[SinkWorker],
        *,
        queue_limit: int = 2_000,
        poll_wait: float = 0.2,
        lock_every: float = 5.0,
        flush_every: float = 1.0,
    ) -> None:
        if not workers:
            raise ValueError("a dispatcher needs at least one node sink")
        self.bus = bus
        self.db = db
        self.topic = bus.topics.events
        self.group = bus.topics.dispatch_group(w.sink.node_code for w in workers)
        self.nodes = {w.sink.node_code: _Node(w) for w in workers}
        self.batch_size = max(w.batch_size for w in workers)
        self.decoder = workers[0].decoder
        self.queue_limit = queue_limit
        self.poll_wait = poll_wait
        self.lock_every = lock_every
        self.flush_every = flush_every
        self.epoch = 0
        """Moves on every revocation: work of an older epoch is dropped."""
        self.owned: set[int] = set()
        self.read: dict[int, int] = {}
        """Next offset of each owned partition the dispatcher has routed."""
        self._locks: Session | None = None
        self._locking = asyncio.Lock()
        """One operation on the lock connection at a time: taking, checking, letting go."""
        self._consumer: Consumer | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._committing: asyncio.Task[None] | None = None
        self._committed: dict[int, int] = {}
        """The group's offsets as last committed from here."""

    # -- the loop -----------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        consumer = await self.bus.consumer(
            self.topic,
            self.group,
            from_start=True,
            on_revoke=self._revoked,
            on_assign=self._assigned,
        )
        self._consumer = consumer
        for node in self.nodes.values():
            self._tasks.append(
                asyncio.create_task(self._run_node(node, stop), name=f"sink {node.code}")
            )
            node.worker.ready.set()
        try:
            await self._dispatch(consumer, stop)
        finally:
            # Each step runs even when the one before was cut short (a fault, or the
            # supervisor cancelling after its grace): the consumer always leaves the
            # group and the lock connection is always closed.
            try:
                if self._committing is not None:
                    self._committing.cancel()
                if not stop.is_set():  # died of a fault: the nodes' loops end with it
                    for task in self._tasks:
                        task.cancel()
                # Stopping hands every partition over: the batches in hand are given
                # up, so the group moves them on as soon as this process has left.
                for node in self.nodes.values():
                    node.worker._handing_over.set()
                try:
                    await asyncio.gather(*self._tasks, return_exceptions=True)
                finally:
                    for node in self.nodes.values():
                        node.worker._handing_over.clear()
                with contextlib.suppress(Exception):
                    await self._flush()
            finally:
                try:
                    await consumer.stop()
                finally:
                    await self._close_locks()
        self._raise_failed()

    async def _close_locks(self) -> None:
        """Lets the node locks go; the connection, and any lock left on it, ends."""
        try:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(_CLOSE_WAIT):
                    await self._release_all()
        finally:
            if self._locks is not None:
                locks, self._locks = self._locks, None
                try:
                    await locks.raw.close(timeout=_CLOSE_WAIT)
                except BaseException:
                    locks.raw.terminate()
                    raise

    async def _dispatch(self, consumer: Consumer, stop: asyncio.Event) -> None:
        broker = Outage(f"sink dispatcher {self.group}: Kafka", logger=_log)
        database = Outage(f"sink dispatcher {self.group}: PostgreSQL", logger=_log)
        loop = asyncio.get_running_loop()
        next_flush = next_locks = loop.time()
        while not stop.is_set():
            self._raise_failed()
            try:
                messages = await consumer.poll(self.poll_wait, self.batch_size)
                self._route([m for m in messages if consumer.owns(m)])
                broker.recovered()
            except BusError as error:
                await broker.wait(error, stop)
                continue
            now = loop.time()
            if now >= next_locks or now >= next_flush:
                try:
                    if now >= next_locks:
                        next_locks = now + self.lock_every
                        await self._serve()
                    if now >= next_flush:
                        next_flush = now + self.flush_every
                        await self._flush()
                        self._commit(consumer)
                    database.recovered()
                except Exception as error:
                    if not is_outage(error) and not isinstance(error, BusError):
                        raise
                    # The nodes' own loops wait it out; only the bookkeeping waits here.
                    next_locks = next_flush = now + database.failed(error)
            self._measure_lag(consumer)

    def _commit(self, consumer: Consumer) -> None:
        """Moves the group's offsets to the lowest cursors, in the background: they only
        inform tools, and the client waits for a broker that is down without end, so
        the loop never waits on it (one commit at a time; one refused while the group
        moves partitions, or cut short, is covered by the next)."""
        if self._committing is not None and not self._committing.done():
            return
        low = self._low_water()
        if not low or low == self._committed:
            return

        async def commit() -> None:
            with contextlib.suppress(BusError):
                await consumer.commit(low)
                self._committed = low

        self._committing = asyncio.create_task(commit(), name=f"commit {self.group}")

    def _raise_failed(self) -> None:
        for task in self._tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                error = task.exception()
                assert error is not None
                raise error

    def _route(self, messages: list[Message]) -> None:
        """Hands each node the messages it is involved in (a malformed one to every
        node, which dead-letters it), and moves the nodes past the rest."""
        if not messages:
            return
        upto: dict[int, int] = {}
        chosen: dict[str, list[Message]] = {}
        for m in messages:
            upto[m.partition] = m.offset + 1
            try:
                where = (m.topic, m.partition, m.offset)
                involved = self.decoder.decode(where, m.key, m.value, m.headers).involved_nodes
                codes = [c for c in involved if c in self.nodes]
            except EnvelopeError:
                codes = list(self.nodes)
            for code in codes:
                node = self.nodes[code]
                if m.partition in node.served and m.offset >= node.routed.get(m.partition, 0):
                    chosen.setdefault(code, []).append(m)
        for code, node in self.nodes.items():
            if node.alone:
                continue
            mine = {p: o for p, o in upto.items() if p in node.served and o > node.routed.get(p, 0)}
            if not mine:
                continue
            node.routed.update(mine)
            batch = chosen.get(code, [])
            if not batch and not node.pending and not node.busy:
                node.applied.update(mine)
                continue
            if node.queued + len(batch) > self.queue_limit:
                self._let_go(node)
                continue
            tail = node.pending[-1] if node.pending else None
            if tail is not None and len(tail.messages) + len(batch) <= self.batch_size:
                tail.messages.extend(batch)
                tail.upto.update(mine)
            else:
                node.pending.append(_Batch(batch, dict(mine), self.epoch))
            node.queued += len(batch)
            node.wake.set()
        self.read.update(upto)

    def _let_go(self, node: _Node) -> None:
        node.alone = True
        node.pending.clear()
        node.queued = 0
        node.let_go += 1
        node.wake.set()
        _log.warning(
            "sink %s: more than %d events queued (the node is down or slow); it catches "
            "up alone from its cursor, the other nodes go on",
            node.code,
            self.queue_limit,
        )

    def _low_water(self) -> dict[int, int]:
        """What the group may commit: the lowest cursor of each owned partition."""
        low: dict[int, int] = {}
        for p in self.owned:
            cursors = [n.applied[p] for n in self.nodes.values() if p in n.served]
            if cursors:
                low[p] = min(cursors)
            elif p in self.read:
                low[p] = self.read[p]
        return low

    def _measure_lag(self, consumer: Consumer) -> None:
        highs = consumer.highwaters()
        for node in self.nodes.values():
            node.worker.stats.lag = sum(
                max(0, highs[p] - node.applied.get(p, 0)) for p in node.served if p in highs
            )

    # -- one node -------------------------------------------------------------------

    async def _run_node(self, node: _Node, stop: asyncio.Event) -> None:
        worker = node.worker
        while not stop.is_set():
            if node.alone:
                await self._catch_up(node, stop)
                continue
            if not node.pending:
                node.wake.clear()
                stopping = asyncio.ensure_future(stop.wait())
                waking = asyncio.ensure_future(node.wake.wait())
                await asyncio.wait({stopping, waking}, return_when=asyncio.FIRST_COMPLETED)
                stopping.cancel()
                waking.cancel()
                continue
            batch = node.pending.popleft()
            node.queued -= len(batch.messages)
            node.busy = True
            try:
                async with worker._turn:
                    if batch.epoch != self.epoch:
                        continue
                    if batch.messages:
                        if not await worker._handle_patiently(batch.messages, stop, batch.upto):
                            continue  # stopped or handed over: comes again to whoever runs next
                        node.durable.update(batch.upto)
                    _advance(node.applied, batch.upto)
            finally:
                node.busy = False

    async def _catch_up(self, node: _Node, stop: asyncio.Event) -> None:
        """Reads the node's partitions alone from its cursor until it is back at the
        dispatcher's position; then the dispatcher routes to it again."""
        epoch = self.epoch
        worker = node.worker
        positions = {p: node.applied.get(p, 0) for p in node.served}
        if not positions:
            node.alone = False
            return
        if node.reading is None:
            node.reading = Outage(f"sink {node.code}: Kafka (catching up)", logger=_log)
        outage = node.reading
        try:
            reader = await self.bus.reader(self.topic, positions)
        except BusError as error:
            await outage.wait(error, stop)
            return
        try:
            while not stop.is_set() and epoch == self.epoch and node.alone:
                if all(node.applied.get(p, 0) >= self.read.get(p, 0) for p in node.served):
                    node.routed = {p: node.applied.get(p, 0) for p in node.served}
                    node.alone = False
                    _log.info("sink %s: caught up, back with the dispatcher", node.code)
                    return
                try:
                    messages = await reader.poll(self.poll_wait, worker.batch_size)
                    outage.recovered()
                except BusError as error:
                    await outage.wait(error, stop)
                    continue
                messages = [m for m in messages if m.partition in node.served]
                if not messages:
                    if reader.lag() == 0:
                        # At the head of every partition: nothing below it is left.
                        _advance(node.applied, reader.highwaters())
                    continue
                upto: dict[int, int] = {}
                for m in messages:
                    upto[m.partition] = m.offset + 1
                mine = [m for m in messages if self._involves(node, m)]
                async with worker._turn:
                    if epoch != self.epoch:
                        return
                    if mine:
                        if not await worker._handle_patiently(mine, stop, upto):
                            return
                        node.durable.update(upto)
                    _advance(node.applied, upto)
                worker.stats.lag = sum(
                    max(0, high - node.applied.get(p, 0)) for p, high in reader.highwaters().items()
                )
        finally:
            await reader.stop()

    def _involves(self, node: _Node, m: Message) -> bool:
        try:
            event = self.decoder.decode((m.topic, m.partition, m.offset), m.key, m.value, m.headers)
        except EnvelopeError:
            return True  # the sink dead-letters it
        return node.code in event.involved_nodes

    # -- partitions moving ------------------------------------------------------------

    async def _assigned(self, partitions: list[int]) -> Mapping[int, int]:
        """The group gave this process ``partitions``: serves its nodes on those it
        can lock and answers where the group's reader starts (the lowest cursor)."""
        self.owned = set(partitions)
        try:
            cursors = await self._cursors(list(self.nodes), partitions)
            await self._serve()
        except Exception as error:
            # Read on from the group's offsets (at most the lowest cursor); the nodes
            # are served once their locks and cursors can be had (``_serve``).
            _log.warning("sink dispatcher %s: cannot load the cursors yet: %s", self.group, error)
            return {}
        positions = {}
        for p in partitions:
            positions[p] = min(cursors[code].get(p, 0) for code in self.nodes)
        self.read = dict(positions)
        for node in self.nodes.values():
            node.routed = {p: node.applied.get(p, 0) for p in node.served}
        return positions

    async def _revoked(self) -> None:
        """The group is about to move partitions: the batches in hand are given up (what
        they settled recorded), the queued ones dropped, the locks let go."""
        self.owned = set()
        self.read = {}
        try:
            async with self._giving_up():
                with contextlib.suppress(Exception):
                    await self._flush()
                await self._release_all()
        finally:
            for node in self.nodes.values():
                node.alone = False

    @contextlib.asynccontextmanager
    async def _giving_up(self) -> AsyncIterator[None]:
        """Drops the queued batches and gives up those in hand: each stops before its
        next call to the node, records what it settled and ends its turn, which this
        waits for (the calls already out, at most one per lane, may finish). No batch
        starts until the body is done."""
        self.epoch += 1
        for node in self.nodes.values():
            node.worker._handing_over.set()
            node.pending.clear()
            node.queued = 0
            node.wake.set()
        try:
            for node in self.nodes.values():
                async with node.worker._turn:
                    pass
            yield
        finally:
            for node in self.nodes.values():
                node.worker._handing_over.clear()

    async def _serve(self) -> None:
        """Takes the (node, partition) locks of the owned partitions not served yet;
        a node newly served behind the dispatcher's position catches up alone."""
        async with self._locking:
            await self._serve_locked()

    async def _serve_locked(self) -> None:
        wanted = {
            lock_key(self.topic, node.code, p): (node, p)
            for node in self.nodes.values()
            for p in self.owned
            if p not in node.served
        }
        try:
            session = await self._lock_session()
            if not wanted:
                # The locks live as long as this connection: is it still there?
                await session.fetchval("sink_locks_alive")
                return
            got = [
                wanted[r["key"]]
                for r in await session.fetch("sink_try_serve", _LOCK_CLASS, list(wanted))
            ]
        except Exception as error:
            if not is_outage(error):
                raise
            await self._lose_locks(error)
            return
        if not got:
            return
        try:
            cursors = await self._cursors(
                sorted({n.code for n, _ in got}), sorted({p for _, p in got})
            )
        except BaseException:
            # Not served after all: a lock taken again later must be held once.
            keys = [lock_key(self.topic, n.code, p) for n, p in got]
            with contextlib.suppress(Exception):
                await session.execute("sink_release_serve", _LOCK_CLASS, keys)
            raise
        for node, p in got:
            node.served.add(p)
            node.applied[p] = cursors[node.code].get(p, 0)
            node.durable[p] = node.applied[p]
            node.routed[p] = node.applied[p]
            if p in self.read and node.applied[p] < self.read[p] and not node.alone:
                # Another process served it meanwhile, or it is new here: behind us.
                node.alone = True
                node.pending.clear()
                node.queued = 0
                node.wake.set()

    async def _lose_locks(self, error: BaseException) -> None:
        """The lock connection is gone, and its locks with it: nothing is served here
        until they are taken again."""
        _log.warning("sink dispatcher %s: lost its node locks: %s", self.group, error)
        if self._locks is not None:
            self._locks.raw.terminate()
            self._locks = None
        async with self._giving_up():
            for node in self.nodes.values():
                node.served.clear()

    async def _release_all(self) -> None:
        async with self._locking:
            await self._release_all_locked()

    async def _release_all_locked(self) -> None:
        keys = [lock_key(self.topic, n.code, p) for n in self.nodes.values() for p in n.served]
        for node in self.nodes.values():
            node.served.clear()
        if keys and self._locks is not None:
            try:
                await self._locks.execute("sink_release_serve", _LOCK_CLASS, keys)
            except Exception as error:
                if not is_outage(error):
                    raise
                self._locks.raw.terminate()  # the locks die with the session
                self._locks = None

    async def _lock_session(self) -> Session:
        if self._locks is None:
            self._locks = self.db.on(
                await asyncpg.connect(
                    self.db.url, server_settings={"application_name": APPLICATION_NAME}
                )
            )
        return self._locks

    async def _cursors(
        self, codes: list[str], partitions: Sequence[int]
    ) -> dict[str, dict[int, int]]:
        """The nodes' cursors in ``partitions``; a node without one starts where its
        own consumer group had committed (once, on switching over), else at 0."""
        found: dict[str, dict[int, int]] = {code: {} for code in codes}
        for row in await self.db.fetch("sink_cursors_of", self.topic, codes):
            found[row["node_code"]][row["partition"]] = row["next_offset"]
        missing = [code for code in codes if any(p not in found[code] for p in partitions)]
        if missing:
            groups = {self.bus.topics.sink_group(code): code for code in missing}
            old = await self.bus.group_offsets(list(groups), self.topic)
            seeded: dict[str, dict[int, int]] = {}
            for code in missing:
                offsets = old.get(self.bus.topics.sink_group(code), {})
                for p in partitions:
                    if p not in found[code]:
                        found[code][p] = seeded.setdefault(code, {})[p] = offsets.get(p, 0)
            await self.db.execute(
                "sink_advance_cursors",
                self.topic,
                [c for c, o in seeded.items() for _ in o],
                [p for o in seeded.values() for p in o],
                [v for o in seeded.values() for v in o.values()],
            )
        return found

    async def _flush(self) -> None:
        """Writes the cursors moved past records that were not the nodes' business."""
        codes: list[str] = []
        parts: list[int] = []
        offsets: list[int] = []
        moved: list[tuple[_Node, int, int]] = []
        for node in self.nodes.values():
            for p in node.served:
                at = node.applied.get(p, 0)
                if at > node.durable.get(p, 0):
                    codes.append(node.code)
                    parts.append(p)
                    offsets.append(at)
                    moved.append((node, p, at))
        if not codes:
            return
        await self.db.execute("sink_advance_cursors", self.topic, codes, parts, offsets)
        for node, p, at in moved:
            node.durable[p] = max(node.durable.get(p, 0), at)


def _advance(cursors: dict[int, int], upto: Mapping[int, int]) -> None:
    for p, offset in upto.items():
        if offset > cursors.get(p, 0):
            cursors[p] = offset


def lock_key(topic: str, node_code: str, partition: int) -> int:
    """The second key of a (node, partition) advisory lock: a signed 32-bit hash."""
    value = zlib.crc32(f"{topic}\0{node_code}\0{partition}".encode())
    return value - 2**32 if value >= 2**31 else value
