"""Bulk loads: roll-ups rebuilt once at the end instead of projected report by report."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from hub.store.connection import Connection, Session


@contextlib.asynccontextmanager
async def deferred_rollups(conn: Connection) -> AsyncIterator[None]:
    """One transaction whose SLA facts and roll-ups are rebuilt in one pass when the
    block succeeds, instead of by the projection report by report.

    For ``seed_reports`` and other bulk imports, whose own ``conn.transaction()``
    becomes a savepoint inside this one. Without it the reports they list in
    ``ministry_pending`` are refreshed by the projection (``hub.ministry.projection``),
    which is correct and several times slower for a large load.
    """
    session = Session.on(conn)
    async with session.transaction():
        yield
        # The list first: whatever it held is visible to the rebuild that follows.
        await session.execute("ministry_pending_clear")
        await session.execute("ministry_rebuild")
