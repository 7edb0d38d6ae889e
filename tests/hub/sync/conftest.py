"""Fixtures for the sync path: a hub wired to the real Kafka broker, its own topics, and
the sandbox nodes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from starlette.applications import Starlette

from hub.app import create_app
from hub.settings import AuthSettings, Secret, Settings, SyncMode
from hub.sync.supervisor import SyncSupervisor
from tests.doubles import RecordingSink, recording_sinks
from tests.fixtures.app import KEY_DIR


@pytest.fixture
def topic_prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}."


@pytest.fixture
def sync_settings(database_url: str, kafka_bootstrap: str, topic_prefix: str) -> Settings:
    return Settings(
        database_url=Secret(database_url),
        auth=AuthSettings(key_dir=KEY_DIR),
        pool_min_size=1,
        pool_max_size=8,
        sync=SyncMode.KAFKA,
        kafka_bootstrap_servers=kafka_bootstrap,
        kafka_partitions=3,
        kafka_topic_prefix=topic_prefix,
    )


@pytest.fixture
async def sync_app(sync_settings: Settings) -> AsyncIterator[Starlette]:
    """The hub on the real broker, each node's sink a recording double."""
    app = create_app(sync_settings, sinks=recording_sinks())
    async with app.router.lifespan_context(app):
        yield app


def sinks(app: Starlette) -> dict[str, RecordingSink]:
    sync: SyncSupervisor = app.state.sync
    found = {}
    for node, worker in sync.workers.items():
        assert isinstance(worker.sink, RecordingSink)
        found[node] = worker.sink
    return found


async def wait_until(
    check: Callable[[], Awaitable[bool] | bool], within: float = 60, what: str = "condition"
) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(0.1)
