"""The connection pool, the named queries and a count of SQL statements run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from hub.store import queries
from hub.store.migrations import Migration, migrate
from hub.store.reference import seed_reference


@dataclass(slots=True, eq=False)
class StatementCounter:
    """Counts statements sent to PostgreSQL; feeds ``/metrics`` and the N+1 test."""

    count: int = 0

    def __call__(self, _record: Any) -> None:
        self.count += 1


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
        self.sql = queries.load()
        self._pool = await asyncpg.create_pool(
            self.url, min_size=self.min_size, max_size=self.max_size, init=self._init_connection
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("the database is not open")
        return self._pool

    async def migrate(self) -> list[Migration]:
        """Migrates to head and loads the reference seed."""
        async with self.pool.acquire() as conn:
            applied = await migrate(conn, self.sql)
            await seed_reference(conn, self.sql)
            return applied

    async def fetch(self, query: str, *args: object) -> list[asyncpg.Record]:
        """Runs the named query ``query``."""
        return await self.pool.fetch(self.sql[query], *args)

    async def fetchrow(self, query: str, *args: object) -> asyncpg.Record | None:
        return await self.pool.fetchrow(self.sql[query], *args)

    async def fetchval(self, query: str, *args: object) -> Any:
        return await self.pool.fetchval(self.sql[query], *args)

    async def _init_connection(self, conn: asyncpg.Connection) -> None:
        conn.add_query_logger(self.statements)
