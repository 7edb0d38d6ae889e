"""Which hub process pulls which node: one at a time, through PostgreSQL advisory locks.

Every process that pulls (a worker of the pull role, or ``serve --all``) tries, before
each pull of a node, to hold that node's session advisory lock on a connection of its
own. The first to take it pulls the node from then on; the others skip the node at
each of their polls and take it over once its holder's connection (and so the lock)
is gone: the process stopped, died or lost the database.
"""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from hub.store.connection import Session
from hub.store.database import Database

_log = logging.getLogger(__name__)

_LOCK_CLASS = 0x5F4B  # first key of the two-key advisory locks (the relay's is 0x5F4A)
APPLICATION_NAME = "sp4n-pull"


class NodeLocks:
    """The node locks this process holds, on its one lock connection."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._session: Session | None = None
        self._mutex = asyncio.Lock()  # the node loops share the one connection
        self.held: set[str] = set()

    async def hold(self, node: str) -> bool:
        """True if this process pulls ``node`` now: it held the lock, or took it.

        A database error (the lock connection lost) lets go of every node, since
        the locks went with the connection, and is raised to the caller.
        """
        async with self._mutex:
            try:
                if self._session is None:
                    raw = await asyncpg.connect(
                        self._db.url, server_settings={"application_name": APPLICATION_NAME}
                    )
                    self._session = self._db.on(raw)
                if node in self.held:
                    await self._session.raw.fetchval("SELECT 1")  # still ours
                elif await self._session.fetchval("pull_try_node", _LOCK_CLASS, node):
                    self.held.add(node)
                    _log.info("pulling node %s in this process", node)
            except BaseException:
                await self._drop()
                raise
            return node in self.held

    async def close(self) -> None:
        """Lets go of every node (closing the connection ends its locks)."""
        async with self._mutex:
            if self._session is not None:
                await self._session.raw.close()
            self._session = None
            self.held.clear()

    async def _drop(self) -> None:
        if self._session is not None:
            self._session.raw.terminate()
        self._session = None
        self.held.clear()
