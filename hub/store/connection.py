"""The one connection type the store's functions accept, and the session that runs the
hub's named queries on it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from asyncpg.transaction import Transaction

from hub.store import queries

Connection: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"
"""A connection of our own or one lent by the pool: both run the same statements."""


@dataclass(frozen=True, slots=True)
class Session:
    """One connection running the hub's named queries, by name.

    ``raw`` is the driver's connection, for what only the driver does (COPY). A
    session's statements are not counted: the count is the read path's.
    """

    raw: Connection
    sql: Mapping[str, str]

    @classmethod
    def on(cls, conn: Connection) -> Session:
        """A session on a connection the caller opened itself (a loader, a test)."""
        return cls(conn, queries.loaded())

    def transaction(self) -> Transaction:
        return self.raw.transaction()

    async def fetch(self, query: str, *args: object) -> list[asyncpg.Record]:
        return await self.raw.fetch(self.sql[query], *args)

    async def fetchrow(self, query: str, *args: object) -> asyncpg.Record | None:
        return await self.raw.fetchrow(self.sql[query], *args)

    async def fetchval(self, query: str, *args: object) -> Any:
        return await self.raw.fetchval(self.sql[query], *args)

    async def execute(self, query: str, *args: object) -> str:
        result: str = await self.raw.execute(self.sql[query], *args)
        return result

    async def executemany(self, query: str, args: Iterable[Sequence[object]]) -> None:
        await self.raw.executemany(self.sql[query], args)
