"""Per-node resilience, at one layer: timeout, bounded jittered retry, circuit
breaker and a concurrency cap, around every external call a connector makes.

Nothing else retries (httpx and asyncpg are used without their own retries), so
a call is tried at most ``attempts`` times and takes at most about
``attempts * timeout + backoff``. Each node has its own Guard, so a node that
hangs only ever holds its own slots.
"""

from __future__ import annotations

import asyncio
import enum
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from connectors.errors import CircuitOpen, ConnectorError, NodeTimeout

T = TypeVar("T")


class CircuitState(enum.Enum):
    CLOSED = "CLOSED"
    """Calls flow."""
    OPEN = "OPEN"
    """Calls fail fast without touching the node, until ``reset_after`` has passed."""
    HALF_OPEN = "HALF_OPEN"
    """One trial call is let through; its outcome closes or reopens the circuit."""


@dataclass(frozen=True, slots=True)
class ResiliencePolicy:
    """The per-node knobs, from the node table's ``resilience`` table."""

    timeout: float = 5.0
    """Seconds per attempt, waiting for a concurrency slot included."""
    attempts: int = 3
    backoff_base: float = 0.2
    backoff_max: float = 5.0
    failure_threshold: int = 5
    """Consecutive node faults that open the circuit."""
    reset_after: float = 30.0
    """Seconds the circuit stays open before a trial call."""
    concurrency: int = 4


@dataclass(frozen=True, slots=True)
class Health:
    """What the hub shows about a node: ``nodes { health circuit lastPulledAt }``."""

    node: str
    circuit: CircuitState
    consecutive_failures: int
    last_error: str | None
    last_error_at: datetime | None
    last_success_at: datetime | None
    in_flight: int

    @property
    def healthy(self) -> bool:
        return self.circuit is CircuitState.CLOSED and self.consecutive_failures == 0


def _now() -> datetime:
    return datetime.now(UTC)


class CircuitBreaker:
    """Closed / open / half-open, counting consecutive node faults."""

    def __init__(
        self,
        node: str,
        threshold: int,
        reset_after: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = _now,
    ) -> None:
        self.node = node
        self._threshold = threshold
        self._reset_after = reset_after
        self._monotonic = monotonic
        self._wall = wall
        self._state = CircuitState.CLOSED
        self._opened_at = 0.0
        self._probing = False
        self.failures = 0
        self.last_error: str | None = None
        self.last_error_at: datetime | None = None
        self.last_success_at: datetime | None = None

    @property
    def state(self) -> CircuitState:
        if (
            self._state is CircuitState.OPEN
            and self._monotonic() - self._opened_at >= self._reset_after
        ):
            self._state = CircuitState.HALF_OPEN
        return self._state

    def admit(self) -> None:
        """Lets a call through or raises CircuitOpen; in half-open, only one trial."""
        state = self.state
        if state is CircuitState.OPEN or (state is CircuitState.HALF_OPEN and self._probing):
            wait = max(0.0, self._reset_after - (self._monotonic() - self._opened_at))
            raise CircuitOpen(
                self.node,
                f"circuit open after {self.failures} failures (last: {self.last_error}); "
                f"next trial in {wait:.1f}s",
            )
        if state is CircuitState.HALF_OPEN:
            self._probing = True

    def release(self) -> None:
        """The admitted call ended without a verdict (e.g. it was cancelled)."""
        self._probing = False

    def succeeded(self) -> None:
        self._probing = False
        self._state = CircuitState.CLOSED
        self.failures = 0
        self.last_success_at = self._wall()

    def failed(self, error: ConnectorError) -> None:
        self._probing = False
        self.failures += 1
        self.last_error = str(error)
        self.last_error_at = self._wall()
        if self._state is CircuitState.HALF_OPEN or self.failures >= self._threshold:
            self._state = CircuitState.OPEN
            self._opened_at = self._monotonic()


class Guard:
    """Runs a node's external calls under its policy; the one place that retries."""

    def __init__(
        self,
        node: str,
        policy: ResiliencePolicy,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.node = node
        self.policy = policy
        self.breaker = CircuitBreaker(
            node, policy.failure_threshold, policy.reset_after, monotonic=monotonic
        )
        self._slots = asyncio.Semaphore(policy.concurrency)
        self._rng = rng or random.Random()
        self._in_flight = 0

    @property
    def health(self) -> Health:
        b = self.breaker
        return Health(
            self.node,
            b.state,
            b.failures,
            b.last_error,
            b.last_error_at,
            b.last_success_at,
            self._in_flight,
        )

    async def call(self, what: str, operation: Callable[[], Awaitable[T]]) -> T:
        """Runs ``operation`` with timeout, retries and the breaker; ``what`` names it in errors.

        ``operation`` must raise ConnectorError for the node's failures; anything
        else is a bug and propagates untouched.
        """
        attempt = 0
        while True:
            attempt += 1
            self.breaker.admit()
            try:
                result = await self._attempt(what, operation)
            except ConnectorError as error:
                if error.node_fault:
                    self.breaker.failed(error)
                else:
                    # The node answered (e.g. refused a bad request): it is alive.
                    self.breaker.succeeded()
                if (
                    not error.retryable
                    or attempt >= self.policy.attempts
                    or self.breaker.state is not CircuitState.CLOSED
                ):
                    raise
            except BaseException:
                self.breaker.release()
                raise
            else:
                self.breaker.succeeded()
                return result
            # Full jitter: many hubs (or sinks) retrying one node never align.
            ceiling = min(self.policy.backoff_max, self.policy.backoff_base * 2 ** (attempt - 1))
            await asyncio.sleep(self._rng.uniform(0, ceiling))

    async def _attempt(self, what: str, operation: Callable[[], Awaitable[T]]) -> T:
        self._in_flight += 1
        try:
            async with asyncio.timeout(self.policy.timeout), self._slots:
                return await operation()
        except TimeoutError:
            raise NodeTimeout(
                self.node, f"{what} took longer than {self.policy.timeout:g}s"
            ) from None
        finally:
            self._in_flight -= 1
