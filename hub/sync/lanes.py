"""Work split into lanes by key: the items of one lane run one after another, in
their order; different lanes run at once, at most ``limit`` items at a time.

A node's sink uses it with the report as the key, so events of different reports
are written back concurrently (up to the node's concurrency cap) while the events
of one report reach the node strictly in the order they came.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import TypeVar

T = TypeVar("T")


async def run_lanes(
    items: Iterable[T],
    key: Callable[[T], Hashable],
    work: Callable[[T], Awaitable[None]],
    limit: int,
) -> None:
    """Runs ``work`` on every item, one lane per ``key``, ``limit`` lanes at a time.

    When ``work`` raises, no further item is started (in any lane); the items
    already under way are let finish, since cancelling a call to a node would only
    leave its outcome unknown. Then the first error is raised. The caller tells
    which items were started by what its ``work`` noted.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    grouped: dict[Hashable, list[T]] = {}
    for item in items:
        grouped.setdefault(key(item), []).append(item)
    lanes = deque(grouped.values())
    errors: list[BaseException] = []

    async def runner() -> None:
        while lanes and not errors:
            lane = lanes.popleft()
            for item in lane:
                if errors:
                    return
                try:
                    await work(item)
                except Exception as error:
                    errors.append(error)
                    return

    runners = min(limit, len(lanes))
    if runners == 1:
        await runner()
    elif runners > 1:
        await asyncio.gather(*(runner() for _ in range(runners)))
    if errors:
        raise errors[0]
