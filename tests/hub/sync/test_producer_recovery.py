"""A broker that comes back from a crash without the last records it acknowledged: the
hub's idempotent producer starts anew and the relay publishes again.

The producer numbers its records per partition and the broker remembers the last
number it appended. A broker killed before its page cache reached the disk (here: a
SIGKILL, then the partitions' last batch cut off, as a lost page would) recovers an
older number than the producer has sent; every later send of that producer is
refused with ``OutOfOrderSequenceNumber``, and aiokafka's producer never recovers
(aiokafka#1017). A broker that forgot the producer entirely (its topic deleted and
made again under it) takes any number: only a lost tail wedges the producer.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections import defaultdict
from pathlib import Path

import pytest
from starlette.applications import Starlette

from hub.domain.service import ReportService
from hub.store.database import Database
from hub.sync.bus import Topics
from hub.sync.kafka import KafkaBus
from hub.sync.relay import OutboxRelay
from infra.kafka import KafkaBroker
from tests.hub.sync.conftest import wait_until
from tests.hub.sync.workload import drive

_BATCH_HEADER = struct.Struct(">qi")
"""A record batch on disk starts with its base offset and the length of the rest."""


async def test_the_relay_publishes_again_after_the_broker_lost_acknowledged_records(
    app: Starlette,
    owned_kafka_broker: KafkaBroker,
    topic_prefix: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    service: ReportService = app.state.service
    db: Database = app.state.database
    broker = owned_kafka_broker
    # One partition, so every batch of the relay lands in the partition cut below.
    bus = KafkaBus(broker.bootstrap_servers, Topics(prefix=topic_prefix, partitions=1))
    await bus.start()
    try:
        await drive(service, 20, seed=31)
        assert await _relay_all(db, bus) == 20
        # The relay sent batches of at most five to each topic; the broker crashes and
        # comes back without the last of them.
        await broker.kill_async()
        for topic in (bus.topics.events, bus.topics.state):
            _cut_last_batch(broker.data_dir / f"{topic}-0")
        await broker.start_async()

        await drive(service, 20, seed=32)
        after = await db.pool.fetch(
            "SELECT event_id, report_id, version FROM outbox WHERE published_at IS NULL ORDER BY id"
        )
        assert len(after) == 20
        assert await _relay_all(db, bus) == 20

        on_the_wire = await _events(bus, {str(r["event_id"]) for r in after})
    finally:
        await bus.stop()
    # Every change made after the crash arrived, each report's in the order written.
    sent: defaultdict[str, list[int]] = defaultdict(list)
    for r in after:
        sent[str(r["report_id"])].append(r["version"])
    received: defaultdict[str, list[int]] = defaultdict(list)
    for event_id in dict.fromkeys(on_the_wire):
        row = next(r for r in after if str(r["event_id"]) == event_id)
        received[str(row["report_id"])].append(row["version"])
    assert received == sent
    # The operator is told once what happened, and what it may have cost.
    told = [
        r.getMessage()
        for r in caplog.records
        if r.name == "hub.sync.kafka" and r.levelno == logging.ERROR
    ]
    assert len(told) == 1, told
    assert "no longer holds records it had acknowledged" in told[0]
    assert f"may be missing from {bus.topics.events}" in told[0]


def _cut_last_batch(partition_dir: Path) -> None:
    """Truncates the partition's log before its last record batch (more than one kept)."""
    segment = max(partition_dir.glob("*.log"))
    data = segment.read_bytes()
    starts = []
    position = 0
    while position + _BATCH_HEADER.size <= len(data):
        starts.append(position)
        _, length = _BATCH_HEADER.unpack_from(data, position)
        position += _BATCH_HEADER.size + length
    # Cut to nothing, the broker would forget the producer, and take any number.
    assert len(starts) >= 2, f"{segment} holds {len(starts)} batch(es), not several"
    with segment.open("r+b") as f:
        f.truncate(starts[-1])


async def _relay_all(db: Database, bus: KafkaBus) -> int:
    """Runs a relay (batches of five) until the outbox is published; returns its count."""
    relay = OutboxRelay(db, bus, batch_size=5)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))

    async def drained() -> bool:
        backlog: int = await db.fetchval("outbox_backlog")
        return backlog == 0

    try:
        await wait_until(drained, within=90, what="the relay to publish the outbox")
    finally:
        stop.set()
        await task
    return relay.published


async def _events(bus: KafkaBus, wanted: set[str]) -> list[str]:
    """The event ids on the events topic, in partition order, until all of ``wanted``."""
    consumer = await bus.consumer(bus.topics.events, None, from_start=True)
    seen: list[str] = []
    try:
        while not wanted <= set(seen):
            messages = await consumer.poll(2, 1000)
            assert messages, f"{len(wanted - set(seen))} of {len(wanted)} events never arrived"
            seen += [dict(m.headers)["ce_id"].decode() for m in messages]
    finally:
        await consumer.stop()
    return [event_id for event_id in seen if event_id in wanted]
