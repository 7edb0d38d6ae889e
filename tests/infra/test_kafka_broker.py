"""The real broker does what the hub's sync relies on: ordered, durable, exactly once.

Each test uses its own topic and consumer group, so they can run against a
shared broker (``KAFKA_BOOTSTRAP_SERVERS``) any number of times.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from infra.kafka import KafkaBroker
from tests.fixtures.kafka import TopicFactory

WAIT_S = 60.0


def _producer(bootstrap: str) -> Any:
    return AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")


def _consumer(bootstrap: str, topic: str, group: str) -> Any:
    return AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )


async def _read(consumer: Any, count: int) -> list[Any]:
    """Exactly ``count`` records (fails on more), in the order the consumer got them."""
    records: list[Any] = []
    async with asyncio.timeout(WAIT_S):
        while len(records) < count:
            batches = await consumer.getmany(timeout_ms=500)
            for batch in batches.values():
                records.extend(batch)
    assert len(records) == count
    return records


async def test_keyed_records_arrive_in_order_and_commits_stick(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    topic = await new_topic(3)
    keys = [f"complaint-{n}" for n in range(10)]
    producer = _producer(kafka_bootstrap)
    await producer.start()
    try:
        sends = [
            await producer.send(topic, key=key.encode(), value=f"{key}:{step}".encode())
            for step in range(30)
            for key in keys
        ]
        await asyncio.gather(*sends)
    finally:
        await producer.stop()

    consumer = _consumer(kafka_bootstrap, topic, f"group-{uuid.uuid4().hex[:8]}")
    await consumer.start()
    try:
        records = await _read(consumer, 300)
        await consumer.commit()
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in range(3)])
        committed = {tp: await consumer.committed(tp) for tp in ends}
    finally:
        await consumer.stop()

    # Kafka orders within a partition, and one key always lands in one partition.
    for key in keys:
        steps = [int(r.value.split(b":")[1]) for r in records if r.key == key.encode()]
        assert steps == list(range(30)), key
    assert committed == ends
    assert sum(ends.values()) == 300


async def test_restart_mid_stream_loses_and_duplicates_nothing(
    owned_kafka_broker: KafkaBroker, kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    topic = await new_topic(1)
    group = f"group-{uuid.uuid4().hex[:8]}"
    partition = TopicPartition(topic, 0)
    producer = _producer(kafka_bootstrap)
    await producer.start()
    try:
        await asyncio.gather(*[await producer.send(topic, value=b"%d" % n) for n in range(100)])

        # A reader takes the first 50 and commits exactly there.
        first = _consumer(kafka_bootstrap, topic, group)
        await first.start()
        try:
            await _read(first, 100)
            await first.commit({partition: 50})
        finally:
            await first.stop()

        # Keep producing while the broker goes down and comes back: the
        # idempotent producer must retry without losing or doubling a record.
        restarted = asyncio.Event()
        sent = [100]  # the next number to send, shared with the test body

        async def produce_through_restart() -> None:
            pending, after_restart = [], 0
            while after_restart < 50:
                pending.append(await producer.send(topic, value=b"%d" % sent[0]))
                sent[0] += 1
                if restarted.is_set():
                    after_restart += 1
                await asyncio.sleep(0.01)
            await asyncio.gather(*pending)

        producing = asyncio.create_task(produce_through_restart())
        await asyncio.sleep(0.2)
        await owned_kafka_broker.stop_async()
        sent_before_down = sent[0]
        await asyncio.sleep(0.5)
        await owned_kafka_broker.start_async()
        assert sent[0] > sent_before_down, "nothing was sent while the broker was down"
        restarted.set()
        async with asyncio.timeout(WAIT_S):
            await producing
        total = sent[0]
    finally:
        await producer.stop()

    # The same group resumes at its commit, which survived the restart.
    second = _consumer(kafka_bootstrap, topic, group)
    await second.start()
    try:
        assert await second.committed(partition) == 50
        resumed = await _read(second, total - 50)
    finally:
        await second.stop()
    assert [int(r.value) for r in resumed] == list(range(50, total))
    assert [r.offset for r in resumed] == list(range(50, total))
