"""Fixtures for tests that need a real Kafka broker.

One broker per test session, started from the cached jars (fetched with Maven
on first use). Set ``KAFKA_BOOTSTRAP_SERVERS`` to use a broker that is already
running instead, e.g. one from ``python -m infra.kafka start``; tests that
must restart the broker are then skipped.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Awaitable, Callable, Iterator

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from infra.kafka import KafkaBroker

BOOTSTRAP_ENV = "KAFKA_BOOTSTRAP_SERVERS"

TopicFactory = Callable[[int], Awaitable[str]]


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker | None]:
    """The broker this session started, or None when ``KAFKA_BOOTSTRAP_SERVERS`` is set."""
    if os.environ.get(BOOTSTRAP_ENV):
        yield None
        return
    broker = KafkaBroker(tmp_path_factory.mktemp("kafka"))
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_broker: KafkaBroker | None) -> str:
    """``host:port`` of the broker to test against."""
    if kafka_broker is None:
        return os.environ[BOOTSTRAP_ENV]
    return kafka_broker.bootstrap_servers


@pytest.fixture
def owned_kafka_broker(kafka_broker: KafkaBroker | None) -> KafkaBroker:
    """The session's broker for tests that stop and start it; skips with an external one."""
    if kafka_broker is None:
        pytest.skip(f"{BOOTSTRAP_ENV} points at a broker these tests may not restart")
    return kafka_broker


@pytest.fixture
def new_topic(kafka_bootstrap: str) -> TopicFactory:
    """Creates a topic with a unique name (auto-creation is off) and returns the name."""

    async def create(partitions: int) -> str:
        name = f"test-{uuid.uuid4().hex[:12]}"
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(name, partitions, 1)])
        finally:
            await admin.close()
        return name

    return create
