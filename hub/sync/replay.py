"""Bootstrap and replay of one node from the log-compacted state topic.

A new node, or one whose system was wiped, is rebuilt by reading
``sp4n.report-state.v1`` from the beginning and handing the records to that
node's sink worker, exactly as if they were live events. The worker's inbox and
version guard make this safe to repeat and keep it from ever moving a report
backwards, so a partly compacted topic (which still holds older versions of
some reports) rebuilds the same holdings as a fully compacted one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from hub.store.database import Database
from hub.sync.bus import Bus, Message
from hub.sync.sink import SinkWorker

_log = logging.getLogger(__name__)


class ReplayError(RuntimeError):
    """The replay could not read the state topic to the end; the message says where."""


@dataclass(frozen=True, slots=True)
class ReplayResult:
    """What one replay did for one node."""

    node_code: str
    read: int
    """State records read up to the end offsets taken at the start."""
    applied: int
    """Records the node was made to apply (newer than what the hub knew it held)."""
    stale: int
    """Records older than or equal to what the node already held."""
    duplicates: int
    """Records the node had already dealt with (same event id)."""
    dead_lettered: int
    """Records the node kept refusing, or malformed ones; they are on the DLQ topic."""
    forgotten: int
    """Reports the hub stopped assuming the node held, because of ``reset``."""


async def forget_node(db: Database, node_code: str) -> int:
    """Deletes the hub's record of what ``node_code`` holds; returns the reports forgotten.

    Both tables go in one transaction: an inbox without versions (or the other
    way round) would make the next replay skip or refuse the wrong records.
    """
    async with db.transaction() as session:
        await session.execute("replay_forget_inbox", node_code)
        status = await session.execute("replay_forget_versions", node_code)
    # asyncpg returns the command tag, e.g. "DELETE 42".
    return int(status.rsplit(" ", 1)[-1])


async def replay_state(
    bus: Bus,
    worker: SinkWorker,
    *,
    reset: bool,
    progress: Callable[[int, int], None] | None = None,
    poll_wait: float = 0.5,
    idle_timeout: float = 30.0,
) -> ReplayResult:
    """Feeds the state topic, up to its end offsets at the start, to ``worker``.

    ``reset`` first forgets what the hub believes the node holds, so every
    report's latest state is applied again (the node's system was wiped).
    Without it only what the node is missing or behind on is applied.
    ``progress`` hears (offsets covered, offsets to cover) as the read advances.

    ``worker`` must not be running its live loop at the same time: the replay
    uses its ``handle`` directly and reports the change in its stats. Raises
    ReplayError when no record arrives for ``idle_timeout`` seconds before the
    end offsets are reached.
    """
    topic = bus.topics.state
    node = worker.sink.node_code
    # Taken before reading, so records published during the replay are left to
    # the node's live sink instead of making the replay chase a moving end.
    ends = await bus.end_offsets(topic)
    total = sum(ends.values())
    forgotten = await forget_node(worker.db, node) if reset else 0
    before = (
        worker.stats.applied,
        worker.stats.stale,
        worker.stats.duplicates,
        worker.stats.dead_lettered,
    )
    covered = dict.fromkeys(ends, 0)
    remaining = {p for p, end in ends.items() if end > 0}
    read = 0
    if progress is not None:
        progress(0, total)
    if remaining:
        consumer = await bus.consumer(topic, None, from_start=True)
        try:
            loop = asyncio.get_running_loop()
            last_record = loop.time()
            while remaining:
                messages = await consumer.poll(poll_wait, worker.batch_size)
                batch = _within(messages, ends, covered, remaining)
                if messages:
                    last_record = loop.time()
                elif loop.time() - last_record > idle_timeout:
                    where = ", ".join(f"{p} at {covered[p]}/{ends[p]}" for p in sorted(remaining))
                    raise ReplayError(
                        f"{topic}: no record for {idle_timeout:.0f} s before the end "
                        f"(partition {where})"
                    )
                if batch:
                    await worker.handle(batch)
                    read += len(batch)
                if progress is not None and messages:
                    progress(sum(covered.values()), total)
        finally:
            await consumer.stop()
    stats = worker.stats
    result = ReplayResult(
        node_code=node,
        read=read,
        applied=stats.applied - before[0],
        stale=stats.stale - before[1],
        duplicates=stats.duplicates - before[2],
        dead_lettered=stats.dead_lettered - before[3],
        forgotten=forgotten,
    )
    _log.info("replayed %s into node %s: %s", topic, node, result)
    return result


def _within(
    messages: list[Message],
    ends: Mapping[int, int],
    covered: dict[int, int],
    remaining: set[int],
) -> list[Message]:
    """The messages before the end offsets; advances ``covered`` and ``remaining``.

    Progress counts offsets, not records: compaction leaves gaps in the offsets,
    and counting offsets still reaches the total exactly when the read is done.
    """
    batch = []
    for message in messages:
        end = ends.get(message.partition, 0)
        if message.offset >= end:
            # Published after the replay began: the live sink's business. It
            # also proves everything before the end was seen.
            covered[message.partition] = end
            remaining.discard(message.partition)
            continue
        batch.append(message)
        covered[message.partition] = max(covered[message.partition], message.offset + 1)
        # The last offset before the end is never compacted away (it is the
        # newest record of its key), so seeing it means the partition is done.
        if message.offset + 1 >= end:
            remaining.discard(message.partition)
    return batch
