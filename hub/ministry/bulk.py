"""Bulk loads: roll-ups computed once at the end instead of once per COPY chunk."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping

from hub.store.connection import Connection


@contextlib.asynccontextmanager
async def deferred_rollups(conn: Connection, sql: Mapping[str, str]) -> AsyncIterator[None]:
    """One transaction in which the history trigger leaves the SLA facts and roll-ups
    alone; they are rebuilt in one pass when the block succeeds.

    For ``seed_reports`` and other bulk imports, whose own ``conn.transaction()``
    becomes a savepoint inside this one. Without it the trigger keeps them current
    chunk by chunk, which is correct and several times slower.
    """
    async with conn.transaction():
        await conn.execute(sql["ministry_defer"])
        yield
        await conn.execute(sql["ministry_rebuild"])
