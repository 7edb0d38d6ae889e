"""Relays in several processes share the outbox's 16 slices fairly: each holds
``ceil(16 / live relays)``, a relay that stops leaves its slices to the others within
seconds, and one that (re)joins gets its share back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from hub.store.database import Database
from hub.sync.bus import Topics
from hub.sync.kafka import KafkaBus
from hub.sync.relay import SLICES, OutboxRelay, fair_share
from tests.hub.sync.conftest import wait_until

REBALANCE = 0.2
"""How often the test's relays look at the others (the hub's default is 2 s)."""


@pytest.fixture
async def bus(kafka_bootstrap: str, topic_prefix: str) -> AsyncIterator[KafkaBus]:
    kafka = KafkaBus(kafka_bootstrap, Topics(prefix=topic_prefix, partitions=3))
    await kafka.start()
    try:
        yield kafka
    finally:
        await kafka.stop()


class Running:
    """A relay's loop, as a worker process runs it."""

    def __init__(self, db: Database, bus: KafkaBus) -> None:
        self.relay = OutboxRelay(db, bus, rebalance_every=REBALANCE)
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(self.relay.run(self.stop))

    async def end(self, *, cancel: bool = False) -> None:
        if cancel:
            self.task.cancel()
        self.stop.set()
        await asyncio.gather(self.task, return_exceptions=True)


def _split(*relays: Running) -> list[int]:
    return [len(r.relay.slices) for r in relays]


def _disjoint_and_whole(*relays: Running) -> bool:
    held = [s for r in relays for s in r.relay.slices]
    return len(held) == len(set(held)) == SLICES


async def _locks_by_pid(db: Database) -> dict[int, int]:
    """What PostgreSQL says: the slice locks each relay connection holds."""
    rows = await db.pool.fetch(
        "SELECT l.pid, count(*)::int AS slices FROM pg_locks l "
        "JOIN pg_database d ON d.oid = l.database AND d.datname = current_database() "
        "WHERE l.locktype = 'advisory' AND l.classid = $1 AND l.objsubid = 2 AND l.granted "
        "GROUP BY l.pid",
        0x5F4A,
    )
    return {r["pid"]: r["slices"] for r in rows}


def test_each_relay_holds_its_fair_share() -> None:
    assert [fair_share(n) for n in (1, 2, 3, 4, 5, 16, 17)] == [16, 8, 6, 4, 4, 1, 1]


async def test_two_relays_share_the_slices_and_take_over_from_each_other(
    db: Database, bus: KafkaBus
) -> None:
    loop = asyncio.get_running_loop()
    first = Running(db, bus)
    await wait_until(lambda: _split(first) == [16], within=10, what="the first relay's 16")
    second = Running(db, bus)
    await wait_until(
        lambda: _split(first, second) == [8, 8] and _disjoint_and_whole(first, second),
        within=10,
        what="8 slices each",
    )
    # One stops (its task cancelled, as a worker shut down): the other takes all 16,
    # within a few rebalance periods.
    stopped_at = loop.time()
    await second.end(cancel=True)
    await wait_until(lambda: _split(first) == [16], within=10, what="the survivor's 16")
    took_over = loop.time() - stopped_at
    # It rejoins: they split again.
    third = Running(db, bus)
    await wait_until(
        lambda: _split(first, third) == [8, 8] and _disjoint_and_whole(first, third),
        within=10,
        what="8 slices each after the rejoin",
    )
    # Their lock connections closed under them (a database failover): both lose their
    # locks, claim anew, and share again.
    before = await _locks_by_pid(db)
    assert sorted(before.values()) == [8, 8]
    killed = await db.pool.fetchval(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = current_database() AND application_name = 'sp4n-relay'"
    )
    assert killed == 2

    async def shared_anew() -> bool:
        after = await _locks_by_pid(db)
        return not set(after) & set(before) and sorted(after.values()) == [8, 8]

    await wait_until(shared_anew, within=20, what="8 slices each on new connections")
    await first.end()
    await third.end()
    print(f"\nthe survivor held all 16 slices {took_over:.1f} s after the other stopped")
    assert took_over < 10 * REBALANCE + 2
