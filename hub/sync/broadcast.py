"""Fans the events topic out to GraphQL subscribers, each with its own filter."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from hub.outages import Outage
from hub.sync.bus import Bus, BusError
from schema.envelope import EnvelopeError, decode
from schema.events import ReportEvent

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EventFilter:
    region_code: str | None = None
    institution_code: str | None = None

    def matches(self, event: ReportEvent) -> bool:
        if self.region_code is not None and event.region_code != self.region_code:
            return False
        return self.institution_code is None or self.institution_code in event.institution_codes


@dataclass(slots=True)
class _Subscriber:
    filter: EventFilter
    queue: asyncio.Queue[ReportEvent | None]


@dataclass(slots=True)
class Broadcaster:
    """Reads new events (no consumer group: each hub process sees them all)."""

    bus: Bus
    queue_size: int = 1000
    _subscribers: list[_Subscriber] = field(default_factory=list)
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, stop: asyncio.Event) -> None:
        consumer = await self.bus.consumer(self.bus.topics.events, None, from_start=False)
        self.ready.set()
        broker = Outage("subscriptions: Kafka", logger=_log)
        try:
            while not stop.is_set():
                try:
                    messages = await consumer.poll(0.2, 1000)
                    broker.recovered()
                except BusError as error:
                    await broker.wait(error, stop)
                    continue
                for message in messages:
                    try:
                        event = decode(message.key, message.value, message.headers)
                    except EnvelopeError:
                        continue  # the sinks dead-letter it; subscribers just do not see it
                    self._deliver(event)
        finally:
            await consumer.stop()
            for subscriber in self._subscribers:
                subscriber.queue.put_nowait(None)

    def _deliver(self, event: ReportEvent) -> None:
        for subscriber in list(self._subscribers):
            if subscriber.filter.matches(event):
                try:
                    subscriber.queue.put_nowait(event)
                except asyncio.QueueFull:
                    # A subscriber that cannot keep up is cut off rather than
                    # slowing everyone else; it sees its stream end.
                    _log.warning(
                        "dropping a subscriber that fell %d events behind", self.queue_size
                    )
                    self._subscribers.remove(subscriber)
                    subscriber.queue.get_nowait()
                    subscriber.queue.put_nowait(None)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    async def subscribe(self, event_filter: EventFilter) -> AsyncIterator[ReportEvent]:
        subscriber = _Subscriber(event_filter, asyncio.Queue(self.queue_size))
        self._subscribers.append(subscriber)
        try:
            while (event := await subscriber.queue.get()) is not None:
                yield event
        finally:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)
