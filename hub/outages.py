"""Riding out an outage of the database or the broker.

A loop that loses PostgreSQL or Kafka does not die: it tells an outage (the
other side is unreachable, restarting or shutting down: a restart of it will
fix it) from a fault (a bug, a refused statement: retrying will not), and for
an outage waits with jittered backoff and tries again. ``Outage`` keeps that
patience and its log lines: one when the outage starts, one every
``log_every`` seconds while it lasts, saying what is wrong and since when,
and one when it is over.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import random
import socket
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg

from hub.errors import Unavailable

_log = logging.getLogger(__name__)

_SOCKET_TROUBLE = ConnectionError | TimeoutError | socket.gaierror
_UNREACHABLE = frozenset({errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ENETDOWN, errno.EHOSTDOWN})


def is_outage(error: BaseException) -> bool:
    """Whether ``error`` means the database (or a node's socket) is unreachable for now.

    The broker's failures arrive as ``BusError`` and are told apart where the bus
    is used; this covers PostgreSQL through asyncpg and plain sockets.
    """
    if isinstance(error, Unavailable | asyncpg.PostgresConnectionError | _SOCKET_TROUBLE):
        return True  # refused, reset, closed mid-operation, DNS, ...
    if isinstance(error, OSError) and error.errno in _UNREACHABLE:
        return True
    if isinstance(error, asyncpg.exceptions.QueryCanceledError):
        return False  # a statement timeout or a cancel: retrying would meet it again
    if isinstance(
        error,
        asyncpg.exceptions.OperatorInterventionError  # shutting down, starting up
        | asyncpg.exceptions.InsufficientResourcesError,  # too many connections
    ):
        return True
    # asyncpg's own words for a connection that closed under us, and for one whose
    # protocol the server's shutdown message caught in the middle of a statement.
    if isinstance(error, asyncpg.InterfaceError) and "closed" in str(error):
        return True
    return isinstance(error, asyncpg.exceptions._base.InternalClientError) and (
        "another operation" in str(error)
    )


def database_unavailable(error: BaseException) -> Unavailable:
    """The coded error a caller sees for a database outage (the driver's text stays in logs)."""
    del error
    return Unavailable("the database is unavailable; try again shortly")


@dataclass(slots=True)
class Outage:
    """One loop's patience with one dependency: backoff, and few, telling log lines."""

    what: str
    """Who is waiting on what, e.g. ``"outbox relay: PostgreSQL"``: starts each line."""
    base: float = 0.2
    cap: float = 5.0
    log_every: float = 30.0
    logger: logging.Logger = field(default=_log)
    meanwhile: str = "retrying with backoff"
    """What the waiting side does meanwhile, for the first line."""
    failures: int = 0
    since: datetime | None = None
    """When the outage began (None while the dependency answers)."""
    _began: float = 0.0
    _logged: float = 0.0

    @property
    def down(self) -> bool:
        return self.since is not None

    def failed(self, error: BaseException) -> float:
        """Notes a failure; returns how long to wait before the next try."""
        now = time.monotonic()
        if self.since is None:
            self.since = datetime.now(UTC)
            self._began = self._logged = now
            self.logger.warning(
                "%s unreachable: %s; %s", self.what, _describe(error), self.meanwhile
            )
        elif now - self._logged >= self.log_every:
            self._logged = now
            self.logger.warning(
                "%s still unreachable since %s (%.0f s, %d tries): %s",
                self.what,
                self.since.strftime("%H:%M:%S %Z"),
                now - self._began,
                self.failures + 1,
                _describe(error),
            )
        self.failures += 1
        ceiling: float = min(self.cap, self.base * 2.0 ** min(self.failures, 16))
        # Half fixed, half jitter: never a busy loop, never many loops in lockstep.
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    async def wait(self, error: BaseException, stop: asyncio.Event) -> None:
        """Notes a failure and waits out the backoff (or until ``stop``)."""
        delay = self.failed(error)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)

    def recovered(self) -> None:
        """The dependency answered again: says so once, and starts the backoff afresh."""
        if self.since is not None:
            self.logger.warning(
                "%s reachable again after %.1f s (%d failed tries)",
                self.what,
                time.monotonic() - self._began,
                self.failures,
            )
        self.since = None
        self.failures = 0


def _describe(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
