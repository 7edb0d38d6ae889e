"""The hub on a 3-broker cluster (replication factor 3, ``min.insync.replicas=2``) while
partition leaders of the events topic die: one killed (SIGKILL), later another stopped
(SIGTERM), each started again. Every committed change must be published and applied at
every involved node exactly once, in version order, as Kafka's own replication test
asks: every acknowledged message is consumed."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from starlette.applications import Starlette

from hub.app import create_app
from hub.domain.service import ReportService
from hub.settings import AuthSettings, Secret, Settings, SyncMode
from hub.sync.supervisor import SyncSupervisor
from infra.kafka import KafkaBroker, KafkaCluster
from tests.doubles import recording_sinks
from tests.fixtures.app import KEY_DIR
from tests.hub.sync.conftest import sinks, wait_until
from tests.hub.sync.workload import drive

PHASE_CHANGES = 1_500
"""Changes written around each fault (two faults)."""

# Three JVMs and the hub share two busy cores: starting a node again takes a while.
pytestmark = pytest.mark.timeout(900)


@pytest.fixture
async def cluster_app(database_url: str, kafka_cluster: KafkaCluster) -> AsyncIterator[Starlette]:
    settings = Settings(
        database_url=Secret(database_url),
        auth=AuthSettings(key_dir=KEY_DIR),
        pool_min_size=1,
        pool_max_size=8,
        sync=SyncMode.KAFKA,
        kafka_bootstrap_servers=kafka_cluster.bootstrap_servers,
        kafka_partitions=3,
        kafka_replication=3,
        kafka_topic_prefix=f"t{uuid.uuid4().hex[:10]}.",
    )
    app = create_app(settings, sinks=recording_sinks())
    async with app.router.lifespan_context(app):
        yield app


class _Partitions:
    """What the cluster says about the events topic's partitions: leaders, in-sync
    replicas, end offsets (asked of whichever node answers)."""

    def __init__(self, servers: str, topic: str) -> None:
        self.topic = topic
        self.admin = AIOKafkaAdminClient(bootstrap_servers=servers, request_timeout_ms=5_000)
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=servers, enable_auto_commit=False, request_timeout_ms=5_000
        )

    async def __aenter__(self) -> _Partitions:
        await self.admin.start()
        await self.consumer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.consumer.stop()
        await self.admin.close()

    async def describe(self) -> dict[int, dict[str, Any]]:
        [topic] = await self.admin.describe_topics([self.topic])
        return {p["partition"]: p for p in topic["partitions"]}

    async def coordinator(self) -> int:
        """The node leading the consumer groups' offsets (their coordinator)."""
        [topic] = await self.admin.describe_topics(["__consumer_offsets"])
        return int(topic["partitions"][0]["leader"])

    async def leader(self, partition: int) -> int:
        return int((await self.describe())[partition]["leader"])

    async def end_offset(self, partition: int) -> int:
        tp = TopicPartition(self.topic, partition)
        return int((await self.consumer.end_offsets([tp]))[tp])

    async def resumed_after(self, partition: int, dead: int, since: float) -> float:
        """Seconds from ``since`` until the partition has a leader other than ``dead``
        and accepted new records from the relay."""
        first: int | None = None
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):  # no leader yet: the cluster is electing
                async with asyncio.timeout(6):
                    if await self.leader(partition) not in (dead, -1):
                        offset = await self.end_offset(partition)
                        if first is None:
                            first = offset
                        elif offset > first:
                            return time.monotonic() - since
            await asyncio.sleep(0.25)
        raise AssertionError(f"partition {partition} accepted nothing for 300 s")

    async def fully_replicated(self) -> bool:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(6):
                return all(len(p["isr"]) == 3 for p in (await self.describe()).values())
        return False


@dataclass
class _Figures:
    attempted: int = 0
    resumed: list[tuple[str, float]] = field(default_factory=list)

    def lines(self, committed: int, applied: int, dropped: Counter[str]) -> Iterator[str]:
        yield "Kafka cluster faults (3 brokers, RF 3, min.insync.replicas=2):"
        yield f"  changes attempted {self.attempted}, committed {committed}"
        yield f"  events applied at the nodes {applied}"
        yield (
            f"  redeliveries the sinks dropped: inbox {dropped['duplicates']}, "
            f"version guard {dropped['stale']}, reconciled {dropped['in_doubt']}"
        )
        for what, seconds in self.resumed:
            yield f"  publishing resumed {seconds:.1f} s after {what}"


async def _fault(
    app: Starlette,
    cluster: KafkaCluster,
    watch: _Partitions,
    figures: _Figures,
    *,
    seed: int,
    spare: set[int],
    hard: bool,
) -> int:
    """Writes ``PHASE_CHANGES`` changes; a fifth of the way in, kills (``hard``) or stops
    the leader of an events partition (one not in ``spare``; the sinks' group
    coordinator when it leads one, so the sinks' commits fail too), then starts it
    again. Returns the node that failed."""
    service: ReportService = app.state.service
    progress = [0]
    writer = asyncio.create_task(drive(service, PHASE_CHANGES, seed=seed, progress=progress))
    await wait_until(lambda: progress[0] >= PHASE_CHANGES // 5, within=300, what="changes")
    leaders = {p: int(d["leader"]) for p, d in (await watch.describe()).items()}
    coordinator = await watch.coordinator()
    candidates = sorted(
        ((n != coordinator, p, n) for p, n in leaders.items() if n not in spare),
    )
    _, partition, node_id = candidates[0]
    node: KafkaBroker = cluster.node(node_id)
    signal_at = time.monotonic()
    failing = asyncio.create_task(node.kill_async() if hard else node.stop_async())
    seconds = await watch.resumed_after(partition, node_id, signal_at)
    await failing
    how = "SIGKILL" if hard else "SIGTERM"
    role = ", the group coordinator" if node_id == coordinator else ""
    what = f"{how} to the leader of partition {partition} (node {node_id}{role})"
    figures.resumed.append((what, seconds))
    await node.start_async()
    await writer
    figures.attempted += progress[0]
    await wait_until(watch.fully_replicated, within=300, what="all 3 replicas in sync")
    return node_id


async def test_leaders_killed_and_stopped_lose_and_double_nothing(
    cluster_app: Starlette, kafka_cluster: KafkaCluster, database_url: str
) -> None:
    sync: SyncSupervisor = cluster_app.state.sync
    topic = sync.bus.topics.events
    figures = _Figures()
    async with _Partitions(kafka_cluster.bootstrap_servers, topic) as watch:
        killed = await _fault(
            cluster_app, kafka_cluster, watch, figures, seed=21, spare=set(), hard=True
        )
        await _fault(
            cluster_app, kafka_cluster, watch, figures, seed=22, spare={killed}, hard=False
        )

    expected = await _outbox(database_url)
    nodes = sinks(cluster_app)

    def received() -> dict[str, Counter[tuple[str, int]]]:
        return {n: Counter((e.report_id, e.version) for e in s.received) for n, s in nodes.items()}

    def complete() -> bool:
        got = received()
        return all(set(got[n]) >= expected[n] for n in expected)

    await wait_until(complete, within=300, what="every node to hold every committed change")
    await asyncio.sleep(2)  # anything applied twice arrives with the rest, not much later
    got = received()
    for node, wanted in expected.items():
        assert set(got[node]) == wanted, f"node {node} holds events it is not involved in"
        twice = [key for key, n in got[node].items() if n > 1]
        assert twice == [], f"node {node} applied {len(twice)} changes twice: {twice[:5]}"
        versions: dict[str, list[int]] = {}
        for event in nodes[node].received:
            versions.setdefault(event.report_id, []).append(event.version)
        backwards = {r: v for r, v in versions.items() if v != sorted(v)}
        assert backwards == {}, f"node {node} moved reports backwards: {backwards}"
    assert sync.failure is None

    committed = await _committed(database_url)
    assert committed == figures.attempted, "every change the workload made was committed"
    dropped: Counter[str] = Counter()
    for worker in sync.workers.values():
        dropped.update(
            duplicates=worker.stats.duplicates,
            stale=worker.stats.stale,
            in_doubt=worker.stats.in_doubt,
        )
    applied = sum(got[n].total() for n in got)
    print("\n" + "\n".join(figures.lines(committed, applied, dropped)))
    assert applied == sum(len(v) for v in expected.values())
    assert len(figures.resumed) == 2


async def _outbox(url: str) -> dict[str, set[tuple[str, int]]]:
    """Each node's (report, version) pairs: what every committed change must bring it.
    Waits until the relay has published the whole outbox."""
    conn = await asyncpg.connect(url)
    try:

        async def published() -> bool:
            return bool(
                await conn.fetchval("SELECT count(*) = 0 FROM outbox WHERE published_at IS NULL")
            )

        await wait_until(published, within=300, what="the relay to publish the whole outbox")
        wanted: dict[str, set[tuple[str, int]]] = {}
        for row in await conn.fetch("SELECT report_id, version, data FROM outbox"):
            data = row["data"] if isinstance(row["data"], dict) else json.loads(row["data"])
            for node in data["involvedNodes"]:
                wanted.setdefault(node, set()).add((str(row["report_id"]), row["version"]))
        return wanted
    finally:
        await conn.close()


async def _committed(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM outbox"))
    finally:
        await conn.close()
