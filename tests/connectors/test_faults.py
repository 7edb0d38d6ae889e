"""Nodes misbehaving for real, over HTTP: 500s, hanging, malformed payloads.

Each failure stays inside its node: retries are bounded, the circuit opens and
recovers through half-open, a hang costs its timeout and nothing more, and a
malformed page produces a clear error and no changes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from connectors.change import ChangePage
from connectors.errors import CircuitOpen, MalformedPayload, NodeTimeout, NodeUnavailable
from connectors.protocol import Connector
from connectors.resilience import CircuitState, ResiliencePolicy
from connectors.sandbox.faults import NOT_A_TIME, Fault
from connectors.sandbox.sandbox import Sandbox
from tests.connectors.conftest import KIND_NODES, Connect, pull_all


def circuit(connector: Connector) -> CircuitState:
    """Read afresh each time (the state moves with the clock)."""
    return connector.health.circuit


async def collect(pages: AsyncIterator[ChangePage], into: list[ChangePage]) -> None:
    async for page in pages:
        into.append(page)


BREAKER = ResiliencePolicy(
    timeout=2.0, attempts=3, backoff_base=0.01, backoff_max=0.02, failure_threshold=3,
    reset_after=0.3, concurrency=4,
)  # fmt: skip


async def test_500s_are_retried_then_open_the_circuit_which_recovers_half_open(
    sandbox: Sandbox, connect: Connect
) -> None:
    node = "16.01"
    sandbox.fault(node, Fault.ERROR)
    async with connect(node, resilience=BREAKER) as connector:
        with pytest.raises(NodeUnavailable, match="HTTP 500"):
            await pull_all(connector)
        assert sandbox.faults.calls[node] == 3  # one call, three attempts
        health = connector.health
        assert health.circuit is CircuitState.OPEN
        assert "HTTP 500" in (health.last_error or "")

        with pytest.raises(CircuitOpen):
            await pull_all(connector)
        assert sandbox.faults.calls[node] == 3  # open: the node is left alone

        await asyncio.sleep(BREAKER.reset_after)
        assert circuit(connector) is CircuitState.HALF_OPEN
        with pytest.raises(NodeUnavailable):
            await pull_all(connector)
        assert sandbox.faults.calls[node] == 4  # one trial, no retry burst
        assert circuit(connector) is CircuitState.OPEN

        sandbox.fault(node, Fault.NONE)
        await asyncio.sleep(BREAKER.reset_after)
        pages = await pull_all(connector)
        assert sum(len(p.changes) for p in pages) == 24
        health = connector.health
        assert health.circuit is CircuitState.CLOSED
        assert health.consecutive_failures == 0
        assert health.last_success_at is not None
        assert health.last_error_at is not None
        assert health.last_success_at > health.last_error_at


async def _timed_pull(connect: Connect, node: str, policy: ResiliencePolicy) -> float:
    async with connect(node, resilience=policy) as connector:
        started = time.perf_counter()
        await pull_all(connector)
        return time.perf_counter() - started


async def test_a_hanging_node_costs_its_timeout_and_never_slows_the_others(
    sandbox: Sandbox, connect: Connect
) -> None:
    hanging, others = "16.07", ["16.01", "16.71", "lapor", "16.12"]
    policy = ResiliencePolicy(timeout=1.0, attempts=2, backoff_base=0.01, backoff_max=0.01)
    alone = await asyncio.gather(*(_timed_pull(connect, n, policy) for n in others))

    sandbox.fault(hanging, Fault.HANG)

    async def pull_hanging() -> float:
        async with connect(hanging, resilience=policy) as connector:
            started = time.perf_counter()
            with pytest.raises(NodeTimeout, match="took longer than 1s"):
                await pull_all(connector)
            return time.perf_counter() - started

    hung, *beside = await asyncio.gather(
        pull_hanging(), *(_timed_pull(connect, n, policy) for n in others)
    )
    # Bounded: two attempts of 1 s and a short backoff, not the node's forever.
    assert 2.0 <= hung < 2.5
    for node, before, during in zip(others, alone, beside, strict=True):
        # Done before the hanging node's first attempt even timed out, and about
        # as fast as without it (the slack is for a loaded test machine).
        assert during < 1.0, f"{node} waited on the hanging node ({during:.2f}s)"
        assert during < 2 * before + 0.3, f"{node}: {before:.2f}s alone, {during:.2f}s beside"


@pytest.mark.parametrize(
    ("kind", "field"),
    [
        ("open311", "requests[0].updated_datetime"),
        ("rest-cursor", "response.data[0].diperbarui"),
        ("rest-page", "response.data[0].diperbarui"),
        ("graphql", "changes.data.perubahanAduan.simpul[0].diubahPada"),
        ("lapor", "response.data[0].diperbarui_pada"),
    ],
)
async def test_a_malformed_payload_names_node_and_field_and_produces_nothing(
    sandbox: Sandbox, connect: Connect, kind: str, field: str
) -> None:
    node = KIND_NODES[kind]
    sandbox.fault(node, Fault.MALFORMED)
    produced: list[ChangePage] = []
    async with connect(node, resilience=BREAKER) as connector:
        with pytest.raises(MalformedPayload) as caught:
            await collect(connector.pull(None), produced)
        health = connector.health
    assert [c for p in produced for c in p.changes] == []
    assert caught.value.node == node
    assert caught.value.field == field
    assert str(caught.value).startswith(f"node {node}: malformed payload: {field}:")
    assert NOT_A_TIME in str(caught.value)
    # The same bytes would come back, so no retry; but it counts against the node.
    assert health.consecutive_failures == 1
    assert health.circuit is CircuitState.CLOSED
