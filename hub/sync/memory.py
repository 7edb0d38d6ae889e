"""The in-process bus: the demo's stand-in for Kafka when none is configured.

It honours the Bus contract within one process (partitions by key, per-group
committed offsets, lag) and keeps everything in memory, so it forgets on exit.
"""

from __future__ import annotations

import asyncio
import zlib
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence

from hub.sync.bus import Message, Topics
from schema.envelope import Envelope


class _Log:
    def __init__(self, partitions: int) -> None:
        self.partitions: list[list[Message]] = [[] for _ in range(partitions)]
        self.changed = asyncio.Event()


class MemoryProducer:
    def __init__(self, bus: MemoryBus) -> None:
        self._bus = bus

    async def publish(self, topic: str, records: Sequence[Envelope]) -> None:
        log = self._bus.log(topic)
        for record in records:
            partition = zlib.crc32(record.key) % len(log.partitions)
            messages = log.partitions[partition]
            messages.append(
                Message(topic, partition, len(messages), record.key, record.value, record.headers)
            )
        log.changed.set()
        log.changed = asyncio.Event()


class MemoryConsumer:
    def __init__(self, bus: MemoryBus, topic: str, group: str | None, from_start: bool) -> None:
        self._bus = bus
        self._log = bus.log(topic)
        self._group = group
        committed = bus.committed[(group, topic)] if group else {}
        self._position = [
            committed.get(p, 0 if from_start else len(messages))
            for p, messages in enumerate(self._log.partitions)
        ]
        self._topic = topic
        self._skip: set[int] = set()

    async def poll(self, max_wait: float, max_records: int) -> list[Message]:
        batch = self._take(max_records)
        if batch:
            return batch
        changed = self._log.changed
        try:
            await asyncio.wait_for(changed.wait(), max_wait)
        except TimeoutError:
            return []
        return self._take(max_records)

    def _take(self, max_records: int) -> list[Message]:
        batch: list[Message] = []
        for partition, messages in enumerate(self._log.partitions):
            if partition in self._skip:
                continue
            start = self._position[partition]
            chunk = messages[start : start + max_records - len(batch)]
            batch += chunk
            self._position[partition] = start + len(chunk)
        return batch

    async def commit(self, offsets: Mapping[int, int] | None = None) -> None:
        if self._group is not None:
            committed = self._bus.committed[(self._group, self._topic)]
            committed.update(dict(enumerate(self._position)) if offsets is None else offsets)

    def seek(self, partition: int, offset: int) -> None:
        self._position[partition] = offset

    def only(self, partitions: Iterable[int]) -> None:
        """Reads ``partitions`` alone from now on (a reader without a group)."""
        kept = set(partitions)
        self._skip = {p for p in range(len(self._position)) if p not in kept}

    def highwaters(self) -> dict[int, int]:
        return {
            p: len(messages)
            for p, messages in enumerate(self._log.partitions)
            if p not in self._skip
        }

    def lag(self) -> int:
        return sum(
            len(messages) - self._position[p]
            for p, messages in enumerate(self._log.partitions)
            if p not in self._skip
        )

    def owns(self, message: Message) -> bool:
        return True  # one process, one member per group: partitions never move

    async def stop(self) -> None:
        return None


class MemoryBus:
    """Kafka's contract inside one process; nothing survives a restart."""

    description = "in-process bus (no Kafka configured; events are not durable)"

    def __init__(self, topics: Topics | None = None) -> None:
        self.topics = topics or Topics()
        self._logs: dict[str, _Log] = {}
        self.committed: defaultdict[tuple[str | None, str], dict[int, int]] = defaultdict(dict)
        self._producer = MemoryProducer(self)

    def log(self, topic: str) -> _Log:
        if topic not in self._logs:
            raise KeyError(f"unknown topic {topic!r}")
        return self._logs[topic]

    async def start(self) -> None:
        for name in (self.topics.events, self.topics.state, self.topics.dead_letters):
            self._logs.setdefault(name, _Log(self.topics.partitions))

    async def stop(self) -> None:
        return None

    async def ping(self) -> None:
        """In this process: always reachable."""

    @property
    def producer(self) -> MemoryProducer:
        return self._producer

    async def consumer(
        self,
        topic: str,
        group: str | None,
        *,
        from_start: bool,
        on_revoke: Callable[[], Awaitable[None]] | None = None,
        on_assign: Callable[[list[int]], Awaitable[Mapping[int, int]]] | None = None,
    ) -> MemoryConsumer:
        # One process, one member per group: partitions never move.
        consumer = MemoryConsumer(self, topic, group, from_start)
        if on_assign is not None:
            positions = await on_assign(list(range(len(self.log(topic).partitions))))
            for partition, offset in positions.items():
                consumer.seek(partition, offset)
        return consumer

    async def reader(self, topic: str, positions: Mapping[int, int]) -> MemoryConsumer:
        consumer = MemoryConsumer(self, topic, None, True)
        consumer.only(positions)
        for partition, offset in positions.items():
            consumer.seek(partition, offset)
        return consumer

    async def group_offsets(self, groups: Sequence[str], topic: str) -> dict[str, dict[int, int]]:
        found = {g: dict(self.committed.get((g, topic), {})) for g in groups}
        return {g: offsets for g, offsets in found.items() if offsets}

    async def end_offsets(self, topic: str) -> dict[int, int]:
        return {p: len(m) for p, m in enumerate(self.log(topic).partitions)}
