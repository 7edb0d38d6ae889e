"""The event bus seam: Kafka in production and tests, an in-process bus for the demo.

Both honour one contract: per-key order within a partition, publish returns only
after every record is acknowledged, and a consumer group's position moves only
when the consumer commits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from schema.asyncapi import KafkaLayout
from schema.envelope import Envelope, Headers
from schema.nodes import NODES


class BusError(RuntimeError):
    """The bus refused or failed an operation; wraps the driver's error. Every loop
    waits it out as an outage of the broker (``hub.outages``)."""


@dataclass(frozen=True, slots=True)
class Message:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Headers


EVENTS_TOPIC_CONFIG: Mapping[str, str] = {
    "retention.ms": str(7 * 86_400_000),
    "segment.ms": str(86_400_000),
}
"""The events topic keeps a record 7 days; the broker drops a whole segment (one a
day) once its newest record is that old, so a record may stay a day longer."""

EVENTS_HELD_DAYS = 8
"""The longest the events topic holds a record (retention plus one segment): the
sinks' inbox must remember an event at least that long (``hub.store.retention``)."""

STATE_TOPIC_CONFIG: Mapping[str, str] = {
    "cleanup.policy": "compact",
    "min.cleanable.dirty.ratio": "0.1",
}
"""The state topic keeps the latest record of each report (its key)."""


@dataclass(frozen=True, slots=True)
class Topics:
    """Topic and group names and the topics' shape; topics are created when absent.

    ``prefix`` lets several hubs (or test runs) share one cluster without
    seeing each other's events or consumer groups.
    """

    prefix: str = ""
    partitions: int = 6
    replication: int = 1

    @property
    def events(self) -> str:
        return f"{self.prefix}sp4n.report-events.v1"

    @property
    def state(self) -> str:
        return f"{self.prefix}sp4n.report-state.v1"

    @property
    def dead_letters(self) -> str:
        return f"{self.prefix}sp4n.report-events.v1.dlq"

    def sink_group(self, node_code: str) -> str:
        """A node's own group, one per node: how sinks read before the dispatcher
        (``hub.sync.dispatch``); its offsets seed the node's cursors once."""
        return f"{self.prefix}sp4n-sink-{node_code}"

    def dispatch_group(self, node_codes: Iterable[str]) -> str:
        """The one group of the hub processes serving the nodes ``node_codes``: those
        with the same nodes share the partitions."""
        codes = sorted(set(node_codes))
        if codes == sorted(n.code for n in NODES):
            name = "all"
        else:
            name = "+".join(codes)
            if len(name) > 80:
                name = hashlib.sha256(name.encode()).hexdigest()[:16]
        return f"{self.prefix}sp4n-sinks-{name}"

    def layout(self) -> KafkaLayout:
        """These topics as the AsyncAPI document (``schema.asyncapi``) describes them."""
        return KafkaLayout(
            prefix=self.prefix,
            events=self.events,
            state=self.state,
            dead_letters=self.dead_letters,
            partitions=self.partitions,
            replicas=self.replication,
            state_config=STATE_TOPIC_CONFIG,
            sink_group_prefix=f"{self.prefix}sp4n-sinks-",
        )


class Producer(Protocol):
    async def publish(self, topic: str, records: Sequence[Envelope]) -> None:
        """Sends ``records`` in order; returns once the broker acknowledged all of them."""


class Consumer(Protocol):
    async def poll(self, max_wait: float, max_records: int) -> list[Message]:
        """The next records after the current position (may be empty after ``max_wait`` seconds)."""

    async def commit(self, offsets: Mapping[int, int] | None = None) -> None:
        """Moves the group's committed position to just after everything polled, or
        to ``offsets`` (partition: next offset)."""

    def lag(self) -> int:
        """Records in the assigned partitions not yet polled, as far as last seen."""

    def highwaters(self) -> dict[int, int]:
        """The next offset of each assigned partition, as far as last seen."""

    def owns(self, message: Message) -> bool:
        """Whether this member may handle ``message`` now: its partition is assigned
        here and the group is not moving partitions (always, without a group)."""

    async def stop(self) -> None:
        """Leaves the group and releases the connection."""


class Bus(Protocol):
    """An event bus: Kafka, or the in-process stand-in for the demo."""

    description: str
    topics: Topics

    async def start(self) -> None:
        """Connects and creates the topics that are missing."""

    async def stop(self) -> None: ...

    async def ping(self) -> None:
        """Asks the broker for its metadata now; raises BusError if it cannot answer
        (readiness, not the data path: bound it with ``asyncio.timeout``)."""

    @property
    def producer(self) -> Producer: ...

    async def consumer(
        self,
        topic: str,
        group: str | None,
        *,
        from_start: bool,
        on_revoke: Callable[[], Awaitable[None]] | None = None,
        on_assign: Callable[[list[int]], Awaitable[Mapping[int, int]]] | None = None,
    ) -> Consumer:
        """A started consumer. ``group=None`` reads without a group (no commits);
        ``from_start`` says where a group without a committed position begins.
        ``on_revoke`` runs when the group is about to move partitions (a member
        joined or left); nobody gets them before it returns, so a member records
        what its batch in hand settled first. ``on_assign`` hears the partitions the
        group gave this member and answers where to read some of them from."""

    async def reader(self, topic: str, positions: Mapping[int, int]) -> Consumer:
        """A started consumer without a group reading only the partitions of
        ``positions``, each from its offset (the earliest one kept, if that is gone)."""

    async def group_offsets(self, groups: Sequence[str], topic: str) -> dict[str, dict[int, int]]:
        """The committed next offset of each partition of ``topic`` in each of ``groups``
        (a group that never committed is absent)."""

    async def end_offsets(self, topic: str) -> dict[int, int]:
        """The next offset of each partition: how far a full read must go."""
