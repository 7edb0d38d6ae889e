"""Building every node's connector from the table, starting and stopping them together."""

from __future__ import annotations

from dataclasses import replace

import pytest

from connectors.config import NodeTable
from connectors.errors import NodeTableError, UnknownKind
from connectors.protocol import Connector, Dependencies
from connectors.registry import Registry, default_registry
from connectors.resilience import CircuitState
from connectors.sandbox.sandbox import Sandbox


def test_the_registry_is_explicit_and_knows_six_kinds() -> None:
    assert default_registry().kinds == {"open311", "rest", "graphql", "lapor", "postgres", "push"}


def test_a_bad_node_fails_the_whole_build_naming_it(table: NodeTable) -> None:
    broken = table.with_node("16.07", kind="grpc")
    with pytest.raises(UnknownKind, match=r"node 16\.07: kind: unknown connector kind 'grpc'"):
        default_registry().build(broken)
    missing = table.with_node("16.71", options={**table["16.71"].options, "page_size": 0})
    with pytest.raises(NodeTableError, match=r"node 16.71: options.page_size must be an integer"):
        default_registry().build(missing)


async def test_a_federation_starts_reports_health_and_stops(
    sandbox: Sandbox, table: NodeTable
) -> None:
    federation = default_registry().build(table)
    assert len(federation) == 19
    await federation.start()
    try:
        health = {h.node: h for h in federation.health()}
        assert set(health) == set(sandbox.nodes)
        assert all(
            h.circuit is CircuitState.CLOSED and h.last_success_at is None for h in health.values()
        )
        await federation["lapor"].ping()
        assert federation["lapor"].health.last_success_at is not None
    finally:
        await federation.stop()
    await federation.stop()  # stopping twice is harmless


async def test_a_failing_start_stops_what_had_started(table: NodeTable) -> None:
    started: list[str] = []
    stopped: list[str] = []

    class Probe:
        def __init__(self, code: str) -> None:
            self.code = code

        async def start(self) -> None:
            if self.code == "16.03":
                raise RuntimeError("no")
            started.append(self.code)

        async def stop(self) -> None:
            stopped.append(self.code)

    def factory(config: object, deps: Dependencies) -> Connector:
        return Probe(config.code)  # type: ignore[attr-defined,return-value]

    registry = Registry({"rest": factory})
    federation = registry.build(table.only({"16.01", "16.02", "16.03", "16.04"}))
    with pytest.raises(RuntimeError):
        await federation.start()
    assert started == ["16.01", "16.02"]
    assert sorted(stopped) == ["16.01", "16.02"]


def test_the_table_replaces_one_node_without_touching_the_rest(table: NodeTable) -> None:
    changed = table.with_node("16.71", poll_interval=5.0)
    assert changed["16.71"].poll_interval == 5.0
    assert changed["16.74"] == table["16.74"]
    assert replace(changed["16.71"], poll_interval=table["16.71"].poll_interval) == table["16.71"]


def test_every_connector_is_a_hub_sink(table: NodeTable) -> None:
    # Tests may import the hub; mypy checks this assignment against its Sink protocol.
    from hub.sync.sink import Sink

    sinks: list[Sink] = list(default_registry().build(table))
    assert {sink.node_code for sink in sinks} == {c.code for c in table}
