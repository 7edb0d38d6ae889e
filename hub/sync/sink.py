"""Node sinks: applying to each node the events it is involved in.

A process's sinks are fed by one dispatcher (``hub.sync.dispatch``). Delivery is
at least once (a node's cursor moves only with the record of the batch applied)
and effects are exactly once: an inbox of event ids drops redeliveries and a
version guard drops anything older than what the node already has. An event the
node keeps refusing goes to the dead-letter topic after bounded retries, with
the error in its headers, so it never blocks the partition.

The inbox row is written after the node was called, so a crash in between used
to leave the node's effect unrecorded and the redelivery applied it again. So
before calling the node the worker notes its intent (node, event) durably, one
statement per batch; an event redelivered with an intent and no outcome is in
doubt, and is reconciled with the node (``Sink.reconcile``: looked up there,
only what is missing applied) instead of applied blindly.

Within a batch the events of different reports are applied concurrently, up to
the node's concurrency cap, and the events of one report one after another in
the order they came (``hub.sync.lanes``), so a node answering in 50 ms is not
held to 20 changes a second.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from opentelemetry.trace import SpanKind

from connectors.errors import ConnectorError
from hub import logs, traces
from hub.outages import Outage, is_outage
from hub.store.database import Database
from hub.sync.bus import Bus, BusError, Message
from hub.sync.lanes import run_lanes
from schema.envelope import Envelope, EnvelopeError, SharedDecoder, encode
from schema.events import ReportEvent

_log = logging.getLogger(__name__)


DEFAULT_CONCURRENCY = 4
"""A node's concurrency cap when the node table gives none (as its connectors' default)."""


class TryLater(Exception):
    """The node cannot take the batch now but may soon (the connector raised a
    ``ConnectorError`` that is ``retryable``). Not a ``BusError``: the node is down,
    not the broker.

    The batch is neither dead-lettered nor committed: the worker keeps it and
    applies it again after ``retry_later`` seconds, so a node that is down
    delays its own events and loses none.
    """


class HandedOver(Exception):
    """The node's partitions are being handed over (``SinkWorker._handing_over``): the
    batch was given up before its next call to the node. What it settled is recorded,
    its cursor is not moved; the rest comes again to whoever serves the partition next.
    """


class Sink(Protocol):
    """Writes status changes into one node's own system."""

    node_code: str

    async def apply(self, event: ReportEvent) -> None:
        """Makes the node reflect ``event``. Raise to have it retried; must tolerate
        seeing an event again after a crash (the node side should key on event id)."""

    async def reconcile(self, event: ReportEvent) -> bool:
        """Makes the node reflect ``event`` after an ``apply`` whose outcome is unknown
        (it may have taken effect): asks the node and applies only what it lacks.
        True when the node already held some of the effect (a blind ``apply`` would
        have repeated it)."""


@dataclass(slots=True)
class SinkStats:
    applied: int = 0
    stale: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    lag: int = 0
    in_doubt: int = 0
    """Events sent to the node before with no outcome recorded (a crash, a failed
    attempt): reconciled with the node instead of applied again."""
    held: int = 0
    """Of those, the ones the node already held (in part): each a duplicate prevented."""


@dataclass(slots=True)
class _Outcome:
    event: ReportEvent
    outcome: str


@dataclass(slots=True)
class SinkWorker:
    """Runs one node's sink until stopped."""

    sink: Sink
    bus: Bus
    db: Database
    batch_size: int = 500
    retry_later: float = 5.0
    concurrency: int = DEFAULT_CONCURRENCY
    """Events of different reports applied at once (the node's cap); one report's
    events always one after another, in version order."""
    decoder: SharedDecoder = field(default_factory=SharedDecoder)
    stats: SinkStats = field(default_factory=SinkStats)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    _turn: asyncio.Lock = field(default_factory=asyncio.Lock)
    """Held while a batch is handled and recorded; a hand-over waits for it."""
    _handing_over: asyncio.Event = field(default_factory=asyncio.Event)
    """Set while the node's partitions go elsewhere (the group moves them, the locks are
    lost, the process stops): the batch in hand is given up before its next call to the
    node, so the hand-over waits only for the calls already out."""

    async def run(self, stop: asyncio.Event) -> None:
        """Applies the node's events until ``stop``: a dispatcher (``hub.sync.dispatch``)
        serving this node alone. A hub process runs one dispatcher for all its nodes."""
        from hub.sync.dispatch import Dispatcher  # the dispatcher drives workers

        await Dispatcher(self.bus, self.db, [self]).run(stop)

    async def _handle_patiently(
        self,
        messages: list[Message],
        stop: asyncio.Event,
        upto: Mapping[int, int] | None = None,
    ) -> bool:
        """Handles a batch, waiting out a node that asks to try later and a database
        outage (the batch is kept and handled anew); False if stopped or handed over
        first, or given up part way for a hand-over (``HandedOver``)."""
        database = Outage(f"sink {self.sink.node_code}: PostgreSQL", logger=_log)
        broker = Outage(f"sink {self.sink.node_code}: Kafka (dead letters)", logger=_log)
        while not (stop.is_set() or self._handing_over.is_set()):
            try:
                await self.handle(messages, upto)
                database.recovered()
                broker.recovered()
                return True
            except HandedOver:
                return False
            except TryLater as error:
                _log.warning("sink %s: %s; batch kept, next try in %ss",
                             self.sink.node_code, error, self.retry_later)  # fmt: skip
                await self._pause(self.retry_later, stop)
            except BusError as error:  # a dead letter could not be published
                await self._pause(broker.failed(error), stop)
            except Exception as error:
                if not is_outage(error):
                    raise
                await self._pause(database.failed(error), stop)
        return False

    async def _pause(self, seconds: float, stop: asyncio.Event) -> None:
        """Waits ``seconds``, or less if the process stops or the node is handed over."""
        ending = [asyncio.ensure_future(e.wait()) for e in (stop, self._handing_over)]
        try:
            await asyncio.wait(ending, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in ending:
                waiting.cancel()

    async def handle(self, messages: list[Message], upto: Mapping[int, int] | None = None) -> None:
        """Applies one polled batch; returns once its outcome is durable, with the
        node's cursors moved to ``upto`` (partition: next offset of the events topic)
        in the same transaction.

        The events it may send are noted as intents before the node is called; an
        event already noted by an earlier attempt is reconciled, not applied. Once the
        node is being handed over, no further event is sent: the calls out finish, what
        they settled is recorded and ``HandedOver`` raised.
        """
        node = self.sink.node_code
        events: list[ReportEvent] = []
        traced: dict[str, Message] = {}
        for message in messages:
            try:
                where = (message.topic, message.partition, message.offset)
                events.append(
                    self.decoder.decode(where, message.key, message.value, message.headers)
                )
                if traces.on():
                    traced[events[-1].event_id] = message
            except EnvelopeError as error:
                await self._dead_letter(message_envelope(message), f"malformed: {error}")
        relevant = [e for e in events if node in e.involved_nodes]
        if not relevant:
            if upto:
                await self.advance(upto)
            return
        ids = [uuid.UUID(e.event_id) for e in relevant]
        reports = list({uuid.UUID(e.report_id) for e in relevant})
        seen = {r["event_id"] for r in await self.db.fetch("sink_seen", node, ids)}
        versions = {
            r["report_id"]: r["version"]
            for r in await self.db.fetch("sink_versions_of", node, reports)
        }
        in_doubt = await self._intend(
            [e for e in relevant if e.version > versions.get(uuid.UUID(e.report_id), 0)], seen
        )
        before = (self.stats.in_doubt, self.stats.held)
        fresh: list[ReportEvent] = []
        for event in relevant:
            event_id = uuid.UUID(event.event_id)
            if event_id in seen:
                self.stats.duplicates += 1
                continue
            seen.add(event_id)
            fresh.append(event)
        outcomes: list[_Outcome] = []
        tried: set[uuid.UUID] = set()

        async def settle(event: ReportEvent) -> None:
            # Runs in the report's lane: the events of one report one after another,
            # so the version guard below sees what the lane applied before.
            event_id, report_id = uuid.UUID(event.event_id), uuid.UUID(event.report_id)
            if event.version <= versions.get(report_id, 0):
                self.stats.stale += 1
                outcomes.append(_Outcome(event, "STALE"))
                return
            if self._handing_over.is_set():
                raise HandedOver(f"sink {node}: handed over; batch given up")
            tried.add(event_id)
            if await self._apply_traced(event, event_id in in_doubt, traced.get(event.event_id)):
                versions[report_id] = event.version
                self.stats.applied += 1
                outcomes.append(_Outcome(event, "APPLIED"))
            else:
                outcomes.append(_Outcome(event, "DEAD_LETTERED"))

        try:
            await run_lanes(fresh, lambda e: e.report_id, settle, self.concurrency)
        except (TryLater, HandedOver):
            # What was settled stays settled: a retry (or the partition's next owner)
            # sees those as duplicates. The events the node failed on stay in doubt (a
            # timeout may have reached it); those not tried yet are not, unless an
            # earlier attempt left them in doubt: they stay so, to be reconciled.
            batch = [uuid.UUID(e.event_id) for e in relevant]
            await self._record(outcomes, [i for i in batch if i not in tried and i not in in_doubt])
            self._log_reconciled(before)
            raise
        await self._record(outcomes, upto=upto)
        self._log_reconciled(before)

    async def advance(self, upto: Mapping[int, int]) -> None:
        """Moves the node's cursors in the events topic to ``upto`` (none of the
        events before it was the node's, or they are recorded)."""
        await self.db.execute("sink_advance_cursors", *self._cursor_args(upto))

    def _cursor_args(self, upto: Mapping[int, int]) -> tuple[str, list[str], list[int], list[int]]:
        node = self.sink.node_code
        return self.bus.topics.events, [node] * len(upto), list(upto), list(upto.values())

    async def _intend(
        self, events: list[ReportEvent], settled: set[uuid.UUID]
    ) -> frozenset[uuid.UUID]:
        """Notes durably, in one statement, that ``events`` (but the ``settled``) are
        about to be sent to the node; returns those an earlier attempt had noted and
        not settled: their effect at the node is unknown."""
        wanted = {uuid.UUID(e.event_id): e for e in events}
        for event_id in settled:
            wanted.pop(event_id, None)
        if not wanted:
            return frozenset()
        rows = await self.db.fetch(
            "sink_intend",
            self.sink.node_code,
            list(wanted),
            [uuid.UUID(e.report_id) for e in wanted.values()],
            [e.version for e in wanted.values()],
        )
        return frozenset(wanted) - {r["event_id"] for r in rows}

    def _log_reconciled(self, before: tuple[int, int]) -> None:
        in_doubt, held = self.stats.in_doubt - before[0], self.stats.held - before[1]
        if in_doubt:
            _log.info(
                "sink %s: reconciled %d in-doubt events with the node: %d already held "
                "there, not sent again",
                self.sink.node_code,
                in_doubt,
                held,
            )

    async def _apply_traced(
        self, event: ReportEvent, in_doubt: bool, message: Message | None
    ) -> bool:
        """Applies ``event`` with its ids on the log lines and, while tracing, in a span
        of the trace its record carries (the write's)."""
        node = self.sink.node_code
        with logs.bound(event_id=event.event_id, report_id=event.report_id, node=node):
            if message is None:
                return await self._apply(event, in_doubt)
            attributes: dict[str, str | int] = {
                "messaging.system": "kafka",
                "messaging.operation.type": "process",
                "messaging.destination.name": message.topic,
                "messaging.message.id": event.event_id,
                "sp4n.node": node,
                "sp4n.report_id": event.report_id,
                "sp4n.version": event.version,
            }
            with traces.span(
                f"apply {node}",
                kind=SpanKind.CONSUMER,
                parent=traces.parent_of(message.headers),
                attributes=attributes,
            ):
                return await self._apply(event, in_doubt)

    async def _apply(self, event: ReportEvent, in_doubt: bool = False) -> bool:
        """One attempt; retries are the sink's own (a connector's ``Guard``). A node that
        is unavailable keeps the batch for later (``TryLater``); one that refuses the
        event has it dead-lettered."""
        try:
            if in_doubt:
                # An attempt before this one may have reached the node.
                self.stats.in_doubt += 1
                if await self.sink.reconcile(event):
                    self.stats.held += 1
            else:
                await self.sink.apply(event)
            _log.debug("applied %s v%d", event.type, event.version)
            return True
        except Exception as error:  # whatever the node's failure, it is classified here
            if is_outage(error):
                raise  # the hub's own database (e.g. the directory): keep the batch
            if isinstance(error, ConnectorError) and error.retryable:
                raise TryLater(f"node {self.sink.node_code} unavailable: {error}") from error
            _log.warning(
                "node %s refused event %s (%s v%d); dead-lettering: %s",
                self.sink.node_code,
                event.event_id,
                event.report_id,
                event.version,
                error,
            )
            await self._dead_letter(encode(event), f"{type(error).__name__}: {error}")
            return False

    async def _dead_letter(self, envelope: Envelope, reason: str) -> None:
        headers = [
            *envelope.headers,
            ("sp4n_dlq_node", self.sink.node_code.encode()),
            ("sp4n_dlq_error", reason.encode()[:1000]),
        ]
        await self.bus.producer.publish(
            self.bus.topics.dead_letters, [Envelope(envelope.key, envelope.value, headers)]
        )
        self.stats.dead_lettered += 1

    async def _record(
        self,
        outcomes: list[_Outcome],
        untried: Iterable[uuid.UUID] = (),
        upto: Mapping[int, int] | None = None,
    ) -> None:
        """Writes the outcomes and the versions applied, drops their intents (and
        those of ``untried`` events, never sent) and moves the node's cursors to
        ``upto``, in one transaction."""
        node = self.sink.node_code
        done = [uuid.UUID(o.event.event_id) for o in outcomes]
        async with self.db.transaction() as session:
            await session.executemany(
                "sink_record_inbox",
                [
                    (
                        node,
                        uuid.UUID(o.event.event_id),
                        uuid.UUID(o.event.report_id),
                        o.event.version,
                        o.outcome,
                    )
                    for o in outcomes
                ],
            )
            applied = [o.event for o in outcomes if o.outcome == "APPLIED"]
            await session.executemany(
                "sink_record_version",
                [(node, uuid.UUID(e.report_id), e.version, e.state.value) for e in applied],
            )
            await session.execute("sink_drop_intents", node, [*done, *untried])
            if upto:
                await session.execute("sink_advance_cursors", *self._cursor_args(upto))


def message_envelope(message: Message) -> Envelope:
    return Envelope(message.key or b"", message.value or b"", message.headers)
