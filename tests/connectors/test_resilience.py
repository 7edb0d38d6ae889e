"""The one resilience layer: timeout, bounded jittered retry, circuit breaker, concurrency cap."""

from __future__ import annotations

import asyncio
import time

import pytest

from connectors.errors import (
    CircuitOpen,
    ConnectorError,
    MalformedPayload,
    NodeRejected,
    NodeTimeout,
    NodeUnavailable,
)
from connectors.resilience import CircuitState, Guard, ResiliencePolicy


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Node:
    """An operation that fails with the queued errors, then succeeds."""

    def __init__(self, *errors: ConnectorError) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def guard(clock: Clock | None = None, **policy: float) -> Guard:
    defaults: dict[str, float] = {
        "timeout": 1.0, "attempts": 3, "backoff_base": 0.001, "backoff_max": 0.002,
        "failure_threshold": 3, "reset_after": 10.0, "concurrency": 2,
    }  # fmt: skip
    settings = ResiliencePolicy(**(defaults | policy))  # type: ignore[arg-type]
    return Guard("16.71", settings, monotonic=clock or Clock())


def state(g: Guard) -> CircuitState:
    """Read afresh each time: the circuit moves with the clock."""
    return g.health.circuit


def down() -> NodeUnavailable:
    return NodeUnavailable("16.71", "HTTP 500")


async def test_a_retryable_failure_is_retried_a_bounded_number_of_times() -> None:
    g, node = guard(attempts=3, failure_threshold=10), Node(down(), down(), down(), down())
    with pytest.raises(NodeUnavailable):
        await g.call("pull", node)
    assert node.calls == 3
    node = Node(down(), down())
    assert await g.call("pull", node) == "ok"
    assert node.calls == 3
    assert (g.health.circuit, g.health.consecutive_failures) == (CircuitState.CLOSED, 0)


async def test_a_refusal_is_not_retried_and_does_not_count_against_the_node() -> None:
    g, node = guard(), Node(NodeRejected("16.71", "HTTP 422"))
    with pytest.raises(NodeRejected):
        await g.call("apply", node)
    assert node.calls == 1
    assert g.health.consecutive_failures == 0


async def test_a_malformed_payload_is_not_retried_but_counts_against_the_node() -> None:
    g, node = guard(), Node(MalformedPayload("16.71", "requests[0].updated_datetime", "bad"))
    with pytest.raises(MalformedPayload):
        await g.call("pull", node)
    assert node.calls == 1
    assert g.health.consecutive_failures == 1
    assert "requests[0].updated_datetime" in (g.health.last_error or "")


async def test_the_circuit_opens_fails_fast_then_half_opens_for_one_trial() -> None:
    clock = Clock()
    g = guard(clock, attempts=1, failure_threshold=3, reset_after=10.0)
    node = Node(*(down() for _ in range(3)))
    for _ in range(3):
        with pytest.raises(NodeUnavailable):
            await g.call("pull", node)
    assert state(g) is CircuitState.OPEN
    with pytest.raises(CircuitOpen, match="circuit open after 3 failures"):
        await g.call("pull", node)
    assert node.calls == 3  # failing fast: the node was not called

    clock.now += 10.0
    assert state(g) is CircuitState.HALF_OPEN
    release = asyncio.Event()

    async def slow_trial() -> str:
        await release.wait()
        return "ok"

    trial = asyncio.create_task(g.call("pull", slow_trial))
    await asyncio.sleep(0)
    with pytest.raises(CircuitOpen):  # only one trial at a time
        await g.call("pull", node)
    release.set()
    assert await trial == "ok"
    assert state(g) is CircuitState.CLOSED
    assert g.health.last_success_at is not None


async def test_a_failed_trial_opens_the_circuit_again() -> None:
    clock = Clock()
    g = guard(clock, attempts=3, failure_threshold=1, reset_after=5.0)
    with pytest.raises(NodeUnavailable):
        await g.call("pull", Node(down()))
    clock.now += 5.0
    trial = Node(down(), down())
    with pytest.raises(NodeUnavailable):
        await g.call("pull", trial)
    # The half-open trial is one call, never a retry burst against a sick node.
    assert trial.calls == 1
    assert g.health.circuit is CircuitState.OPEN


async def test_a_cancelled_trial_lets_the_next_one_through() -> None:
    clock = Clock()
    g = guard(clock, attempts=1, failure_threshold=1, reset_after=5.0)
    with pytest.raises(NodeUnavailable):
        await g.call("pull", Node(down()))
    clock.now += 5.0
    trial = asyncio.create_task(g.call("pull", asyncio.Event().wait))
    await asyncio.sleep(0)
    trial.cancel()
    with pytest.raises(asyncio.CancelledError):
        await trial
    assert await g.call("pull", Node()) == "ok"


async def test_a_hanging_call_times_out_within_its_bound() -> None:
    g = guard(timeout=0.1, attempts=2, backoff_base=0.01, backoff_max=0.01)
    calls = 0

    async def hang() -> None:
        nonlocal calls
        calls += 1
        await asyncio.Event().wait()

    started = time.perf_counter()
    with pytest.raises(NodeTimeout, match=r"pull took longer than 0.1s"):
        await g.call("pull", hang)
    elapsed = time.perf_counter() - started
    assert calls == 2
    assert 0.2 <= elapsed < 0.5
    assert g.health.in_flight == 0


async def test_concurrency_is_capped_per_node() -> None:
    g = guard(concurrency=2, timeout=5.0)
    running = peak = 0

    async def work() -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.02)
        running -= 1

    await asyncio.gather(*(g.call("fetch", work) for _ in range(6)))
    assert peak == 2


async def test_backoff_is_jittered_and_bounded() -> None:
    g = guard(attempts=4, failure_threshold=10, backoff_base=0.05, backoff_max=0.08)
    started = time.perf_counter()
    with pytest.raises(NodeUnavailable):
        await g.call("pull", Node(*(down() for _ in range(4))))
    # Three waits of at most 0.05, 0.08 and 0.08 seconds.
    assert time.perf_counter() - started < 0.21 + 0.1
