"""The bus on a real Apache Kafka, through aiokafka.

aiokafka's defaults do not fit at-least-once sync: the producer here is
idempotent with ``acks="all"``, consumers never auto-commit and always say
where a new group starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, OutOfOrderSequenceNumber, TopicAlreadyExistsError

from hub.sync.bus import EVENTS_TOPIC_CONFIG, STATE_TOPIC_CONFIG, BusError, Message, Topics
from schema.envelope import Envelope

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Fetch:
    """How long the broker may hold a consumer's fetch to fill it.

    Every node's sink is a consumer group reading the whole events topic, so each
    fetch the broker answers is paid 19 times. With aiokafka's defaults (answer as
    soon as one byte is there) a trickle of changes costs 19 fetches, and as many
    offset commits, per change; holding a fetch until it has ``min_bytes`` or
    ``max_wait_ms`` passed lets each answer carry many changes at a cost of at most
    ``max_wait_ms`` of latency (measured in ``bench/fanout.py``).
    """

    min_bytes: int
    max_wait_ms: int


FETCH = Fetch(min_bytes=32 * 1024, max_wait_ms=250)
"""What the sinks' consumer groups use (``bench/RESULTS.md``, fanout, for the figures)."""


class _Handover(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka has no types
    """Tells the consumer when its group moves partitions, and runs ``on_revoke``
    first. aiokafka waits for it before rejoining, and no member is assigned a
    partition before every member's revocation returned: so what the batch in hand
    settled is recorded before the partition's new owner reads on from the cursor."""

    def __init__(
        self,
        consumer: KafkaConsumer,
        on_revoke: Callable[[], Awaitable[None]] | None,
        on_assign: Callable[[list[int]], Awaitable[Mapping[int, int]]] | None = None,
    ) -> None:
        self._consumer = consumer
        self._on_revoke = on_revoke
        self._on_assign = on_assign

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        self._consumer.rebalancing = True
        if self._on_revoke is not None:
            await self._on_revoke()

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        try:
            if self._on_assign is not None and assigned:
                topic = next(iter(assigned)).topic
                positions = await self._on_assign(sorted(tp.partition for tp in assigned))
                for partition, offset in positions.items():
                    self._consumer.seek(TopicPartition(topic, partition), offset)
        finally:
            self._consumer.rebalancing = False


class KafkaProducer:
    """Publishes records through an idempotent producer, replaced after a failed send.

    An idempotent producer numbers its records per partition; a broker that came back
    from a crash without the last records it acknowledged holds an older number than the
    producer's and refuses its next ones (``OutOfOrderSequenceNumber``) from then on, and
    aiokafka's producer does not recover by itself (aiokafka#1017). (A broker that forgot
    the producer altogether takes any number.)
    So a send that failed retires the producer: the next publish starts a new one (a new
    producer id), and the records of the failed batch go again with it (the relay's
    transaction rolled back; the sinks' inbox drops what arrives twice).
    """

    def __init__(self, start: Callable[[], Awaitable[AIOKafkaProducer]]) -> None:
        self._start = start
        self._producer: AIOKafkaProducer | None = None
        self._starting = asyncio.Lock()

    async def open(self) -> AIOKafkaProducer:
        """The producer in service, started anew if the last one was retired."""
        async with self._starting:
            if self._producer is None:
                self._producer = await self._start()
            return self._producer

    async def close(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()

    async def publish(self, topic: str, records: Sequence[Envelope]) -> None:
        producer: AIOKafkaProducer | None = None
        try:
            producer = await self.open()
            pending = [
                await producer.send(topic, r.value, key=r.key, headers=r.headers) for r in records
            ]
            await asyncio.gather(*pending)
        except KafkaError as error:
            await self._retire(producer)
            if isinstance(error, OutOfOrderSequenceNumber):
                # Not an outage: the broker answers, but has lost what it acknowledged.
                _log.error(
                    "Kafka refused the producer's next records on %s (%s): the broker no "
                    "longer holds records it had acknowledged (lost in a crash before they "
                    "reached its disk, or in an unclean leader election), so records "
                    "published just before may be missing from %s; a new producer takes over",
                    topic,
                    error,
                    topic,
                )
                raise BusError(
                    f"publishing to {topic} failed: the broker lost records it had "
                    f"acknowledged ({error}); a new producer takes over"
                ) from error
            raise BusError(f"publishing to {topic} failed: {error}") from error

    async def _retire(self, failed: AIOKafkaProducer | None) -> None:
        """Stops ``failed``, the producer a send failed on, unless a successor already
        serves: a send that fails late must not stop a healthy new producer."""
        producer = self._producer
        if producer is not failed or producer is None:
            return
        self._producer = None
        # Its sends are failing: give it a little time to let go, no more.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(producer.stop(), _RETIRE_WITHIN)


_RETIRE_WITHIN = 5.0
"""Seconds a failed producer is given to stop before it is dropped."""


class KafkaConsumer:
    def __init__(self, consumer: AIOKafkaConsumer) -> None:
        self._consumer = consumer
        self._next: dict[TopicPartition, int] = {}
        self.rebalancing = False
        """From a revocation to the next assignment: this member owns nothing for sure."""

    async def poll(self, max_wait: float, max_records: int) -> list[Message]:
        try:
            batches = await self._consumer.getmany(
                timeout_ms=int(max_wait * 1000), max_records=max_records
            )
        except KafkaError as error:
            raise BusError(f"polling failed: {error}") from error
        messages = []
        for tp, records in batches.items():
            for r in records:
                messages.append(
                    Message(r.topic, r.partition, r.offset, r.key, r.value, list(r.headers))
                )
            if records:
                self._next[tp] = records[-1].offset + 1
        return messages

    async def commit(self, offsets: Mapping[int, int] | None = None) -> None:
        try:
            if offsets is None:
                await self._consumer.commit()
            elif offsets:
                assigned = {tp.partition: tp for tp in self._consumer.assignment()}
                await self._consumer.commit(
                    {assigned[p]: o for p, o in offsets.items() if p in assigned}
                )
        except KafkaError as error:
            raise BusError(f"commit failed: {error}") from error

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self._consumer.seek(tp, offset)
        self._next[tp] = offset

    def highwaters(self) -> dict[int, int]:
        found = {}
        for tp in self._consumer.assignment():
            high = self._consumer.highwater(tp)
            if high is not None:
                found[tp.partition] = high
        return found

    def lag(self) -> int:
        # Partitions not yet polled from have no known position and count as 0.
        total = 0
        for tp in self._consumer.assignment():
            high = self._consumer.highwater(tp)
            position = self._next.get(tp)
            if high is not None and position is not None:
                total += max(0, high - position)
        return total

    def owns(self, message: Message) -> bool:
        tp = TopicPartition(message.topic, message.partition)
        return not self.rebalancing and tp in self._consumer.assignment()

    async def stop(self) -> None:
        try:
            await self._consumer.stop()
        except asyncio.CancelledError:
            # aiokafka 0.14, closing, awaits the fetches it has just cancelled: one
            # waiting to retry a broker that is down lets its cancellation escape from
            # stop(), before the client's connections are closed. Only a cancellation
            # of this task itself is passed on; the connections are closed either way.
            task = asyncio.current_task()
            try:
                await self._consumer._client.close()
            finally:
                if task is not None and task.cancelling():
                    raise


class KafkaBus:
    """Apache Kafka at ``bootstrap_servers``."""

    def __init__(
        self, bootstrap_servers: str, topics: Topics | None = None, fetch: Fetch = FETCH
    ) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.topics = topics or Topics()
        self.fetch = fetch
        self.description = f"Apache Kafka at {bootstrap_servers}"
        self._producer: KafkaProducer | None = None

    async def start(self) -> None:
        await self._ensure_topics()
        producer = KafkaProducer(self._new_producer)
        try:
            await producer.open()
        except KafkaError as error:
            raise BusError(f"cannot reach Kafka at {self.bootstrap_servers}: {error}") from error
        self._producer = producer

    async def _new_producer(self) -> AIOKafkaProducer:
        producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap_servers,
            enable_idempotence=True,
            acks="all",
            linger_ms=2,
            request_timeout_ms=30_000,
        )
        try:
            await producer.start()
        except BaseException:
            await producer.stop()
            raise
        return producer

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.close()
            self._producer = None

    async def ping(self) -> None:
        if self._producer is None:
            raise BusError("the Kafka bus is not started")
        try:
            producer = await self._producer.open()
            await producer.client.fetch_all_metadata()
        except KafkaError as error:
            raise BusError(f"Kafka at {self.bootstrap_servers}: {error}") from error

    @property
    def producer(self) -> KafkaProducer:
        if self._producer is None:
            raise RuntimeError("the Kafka bus is not started")
        return self._producer

    async def consumer(
        self,
        topic: str,
        group: str | None,
        *,
        from_start: bool,
        on_revoke: Callable[[], Awaitable[None]] | None = None,
        on_assign: Callable[[list[int]], Awaitable[Mapping[int, int]]] | None = None,
    ) -> KafkaConsumer:
        raw = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap_servers,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest" if from_start else "latest",
            session_timeout_ms=10_000,
            heartbeat_interval_ms=1_000,
            max_poll_records=1_000,
            # Only a group (a node's sink) is paid once per node; a reader without one
            # (the broadcaster, replay) is one per process and answers at once.
            fetch_min_bytes=self.fetch.min_bytes if group is not None else 1,
            fetch_max_wait_ms=self.fetch.max_wait_ms if group is not None else 500,
        )
        consumer = KafkaConsumer(raw)
        try:
            await raw.start()
            if group is None:
                partitions = [TopicPartition(topic, p) for p in await self._partitions(topic)]
                raw.assign(partitions)
                if from_start:
                    await raw.seek_to_beginning(*partitions)
                else:
                    await raw.seek_to_end(*partitions)
            else:
                raw.subscribe([topic], listener=_Handover(consumer, on_revoke, on_assign))
        except KafkaError as error:
            await raw.stop()
            raise BusError(f"cannot consume {topic}: {error}") from error
        return consumer

    async def reader(self, topic: str, positions: Mapping[int, int]) -> KafkaConsumer:
        raw = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap_servers,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=1_000,
        )
        consumer = KafkaConsumer(raw)
        try:
            await raw.start()
            raw.assign([TopicPartition(topic, p) for p in positions])
            for partition, offset in positions.items():
                consumer.seek(TopicPartition(topic, partition), offset)
        except KafkaError as error:
            await raw.stop()
            raise BusError(f"cannot read {topic}: {error}") from error
        return consumer

    async def group_offsets(self, groups: Sequence[str], topic: str) -> dict[str, dict[int, int]]:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap_servers)
        result: dict[str, dict[int, int]] = {}
        try:
            await admin.start()
            listed = {g for g, _ in await admin.list_consumer_groups()}
            for group in groups:
                if group not in listed:
                    continue
                found = await admin.list_consumer_group_offsets(group)
                offsets = {
                    tp.partition: meta.offset
                    for tp, meta in found.items()
                    if tp.topic == topic and meta.offset >= 0
                }
                if offsets:
                    result[group] = offsets
        except KafkaError as error:
            raise BusError(f"cannot read the groups' offsets in {topic}: {error}") from error
        finally:
            await admin.close()
        return result

    async def end_offsets(self, topic: str) -> dict[int, int]:
        raw = AIOKafkaConsumer(bootstrap_servers=self.bootstrap_servers, enable_auto_commit=False)
        await raw.start()
        try:
            partitions = [TopicPartition(topic, p) for p in await self._partitions(topic)]
            ends = await raw.end_offsets(partitions)
            return {tp.partition: offset for tp, offset in ends.items()}
        finally:
            await raw.stop()

    async def _partitions(self, topic: str) -> list[int]:
        """The topic's partitions, asked of the broker (a consumer's metadata may lag)."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap_servers)
        try:
            await admin.start()
            for description in await admin.describe_topics([topic]):
                if description["topic"] == topic and description["error_code"] == 0:
                    return sorted(p["partition"] for p in description["partitions"])
        except KafkaError as error:
            raise BusError(f"cannot describe {topic}: {error}") from error
        finally:
            await admin.close()
        raise BusError(f"topic {topic} does not exist")

    async def _ensure_topics(self) -> None:
        t = self.topics
        wanted = [
            NewTopic(
                t.events,
                t.partitions,
                t.replication,
                topic_configs=dict(EVENTS_TOPIC_CONFIG),
            ),
            NewTopic(
                t.state,
                t.partitions,
                t.replication,
                topic_configs=dict(STATE_TOPIC_CONFIG),
            ),
            NewTopic(t.dead_letters, t.partitions, t.replication),
        ]
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap_servers)
        try:
            await admin.start()
            existing = set(await admin.list_topics())
            missing = [topic for topic in wanted if topic.name not in existing]
            if missing:
                # Another hub process may have created them a moment ago.
                with contextlib.suppress(TopicAlreadyExistsError):
                    await admin.create_topics(missing)
                _log.info("created topics %s", ", ".join(topic.name for topic in missing))
        except KafkaError as error:
            raise BusError(f"cannot create topics on {self.bootstrap_servers}: {error}") from error
        finally:
            await admin.close()
