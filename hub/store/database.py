"""The connection pool, the named queries and a count of SQL statements run.

Every query the hub runs is a named one (``hub/store/queries.py``), run one way: by
its name, on the ``Database`` for a statement of its own, or on a ``Session`` (one
connection, in a transaction or not) for several that belong together. The
``Database``'s own statements are counted, for the read path's N+1 test; the
background loops run theirs on a session, so the count stays the read path's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from hub.store import queries
from hub.store.connection import Connection, Session
from hub.store.migrations import Migration, migrate
from hub.store.reference import seed_reference
from hub.store.rows import typed

T = TypeVar("T")

_log = logging.getLogger(__name__)

CLOSE_GRACE = 10.0
"""Seconds ``Database.close`` waits for lent connections to come back before cutting them."""


def with_database(url: str, name: str) -> str:
    """``url`` naming database ``name`` on the same server instead."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


@dataclass(slots=True)
class StatementCounter:
    """Counts the named statements the read path runs; the N+1 test reads it.

    asyncpg's own one-off statements on a fresh connection (type introspection)
    are not ours and are not counted.
    """

    count: int = 0


class _Connection(asyncpg.Connection):
    """No reset round trip on every pool release: the hub keeps no session state."""

    def get_reset_query(self) -> str:
        return ""


@dataclass(slots=True)
class Database:
    """The hub's handle on PostgreSQL. Open it in the app's lifespan."""

    url: str
    min_size: int = 2
    max_size: int = 10
    sql: Mapping[str, str] = field(default_factory=dict)
    statements: StatementCounter = field(default_factory=StatementCounter)
    _pool: asyncpg.Pool | None = None

    async def open(self) -> None:
        self.sql = queries.loaded()
        self._pool = await asyncpg.create_pool(
            self.url,
            min_size=self.min_size,
            max_size=self.max_size,
            connection_class=_Connection,
        )

    async def close(self, grace: float = CLOSE_GRACE) -> None:
        """Closes the pool once every lent connection is back; those still lent after
        ``grace`` seconds are cut (logged), so that shutting down never hangs on one."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        try:
            # asyncpg terminates the pool when its graceful close is cancelled.
            await asyncio.wait_for(pool.close(), grace)
        except TimeoutError:
            _log.warning("connections still in use after %ss: the pool was cut", grace)

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("the database is not open")
        return self._pool

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[Session]:
        """A connection lent by the pool, its statements each their own transaction."""
        async with self.pool.acquire() as conn:
            yield Session(conn, self.sql)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Session]:
        """A connection lent by the pool inside one transaction: all of it or none."""
        async with self.pool.acquire() as conn, conn.transaction():
            yield Session(conn, self.sql)

    def on(self, conn: Connection) -> Session:
        """A session on a connection of the caller's own (the relay's, that holds locks)."""
        return Session(conn, self.sql)

    async def migrate(self) -> list[Migration]:
        """Migrates to head and loads the reference seed."""
        async with self.session() as session:
            applied = await migrate(session)
            await seed_reference(session)
            return applied

    async def fetch(self, query: str, *args: object) -> list[asyncpg.Record]:
        """Runs the named query ``query``."""
        self.statements.count += 1
        return await self.pool.fetch(self.sql[query], *args)

    async def fetchrow(self, query: str, *args: object) -> asyncpg.Record | None:
        self.statements.count += 1
        return await self.pool.fetchrow(self.sql[query], *args)

    async def fetchval(self, query: str, *args: object) -> Any:
        self.statements.count += 1
        return await self.pool.fetchval(self.sql[query], *args)

    async def rows(self, cls: type[T], query: str, *args: object) -> list[T]:
        """Runs the named query ``query``; its rows as ``cls`` (``hub.store.rows.typed``)."""
        return [typed(cls, r) for r in await self.fetch(query, *args)]

    async def row(self, cls: type[T], query: str, *args: object) -> T | None:
        found = await self.fetchrow(query, *args)
        return None if found is None else typed(cls, found)

    async def execute(self, query: str, *args: object) -> str:
        """Runs the named statement ``query``; returns its status tag."""
        self.statements.count += 1
        result: str = await self.pool.execute(self.sql[query], *args)
        return result
