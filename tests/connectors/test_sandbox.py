"""The sandbox federation itself: all 19 nodes, deterministic, alive, self-consistent."""

from __future__ import annotations

import asyncio

from connectors.registry import default_registry
from connectors.sandbox.sandbox import LAYOUT, VOCABULARIES, Sandbox
from schema.nodes import NODES
from tests.connectors.conftest import latest, pull_all


async def test_the_sandbox_serves_all_19_nodes_and_each_answers(sandbox: Sandbox) -> None:
    assert set(sandbox.nodes) == {n.code for n in NODES}
    federation = default_registry().build(sandbox.node_table())
    await federation.start()
    try:
        await asyncio.gather(*(connector.ping() for connector in federation))
        assert all(h.healthy for h in federation.health())
    finally:
        await federation.stop()


async def test_without_postgresql_it_serves_the_other_17() -> None:
    async with Sandbox() as small:
        table = small.node_table()
    assert len(small.nodes) == len(table) == 17
    assert {c.kind for c in table} == {"open311", "rest", "graphql", "lapor", "push"}


async def test_the_same_seed_gives_the_same_federation() -> None:
    first, same, other = Sandbox(seed=7), Sandbox(seed=7), Sandbox(seed=8)

    def snapshot(sandbox: Sandbox) -> dict[str, list[tuple[str, str, str]]]:
        return {
            node: [(r.id, r.title, r.status) for r in system.by_seq()]
            for node, system in sandbox.systems.items()
        }

    assert snapshot(first) == snapshot(same) != snapshot(other)


async def test_every_label_a_node_uses_is_mapped(sandbox: Sandbox) -> None:
    table = sandbox.node_table()
    for node, protocol in LAYOUT.items():
        if protocol == "push":
            continue
        unmapped = VOCABULARIES[protocol].labels - set(table[node].status.inbound)
        assert unmapped == set(), node


async def test_ticks_keep_the_federation_moving_and_pulls_see_it(sandbox: Sandbox) -> None:
    federation = default_registry().build(sandbox.node_table())
    await federation.start()
    try:
        marks = {c.node_code: [p async for p in c.pull(None)] for c in federation}
        moved = [change for _ in range(4) for change in await sandbox.tick(changes=5)]
        assert len(moved) >= 15
        for node, external_id in moved:
            pages = marks[node]
            news = latest(await pull_all(federation[node], pages[-1].watermark if pages else None))
            assert external_id in news, (node, external_id)
    finally:
        await federation.stop()


async def test_background_ticking_starts_and_stops(sandbox: Sandbox) -> None:
    before = {n: s.by_seq()[-1].seq for n, s in sandbox.systems.items()}
    sandbox.start_ticking(0.01, changes=10)
    await asyncio.sleep(0.2)
    await sandbox.stop_ticking()
    after = {n: s.by_seq()[-1].seq for n, s in sandbox.systems.items()}
    assert sum(after[n] > before[n] for n in before) >= 5
    await asyncio.sleep(0.05)
    assert {n: s.by_seq()[-1].seq for n, s in sandbox.systems.items()} == after
