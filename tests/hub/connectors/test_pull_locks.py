"""Two pull workers configured for the same nodes: each node is pulled by one of them
at a time, and the other takes it over once the first stops."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace

from starlette.applications import Starlette

from connectors.config import NodeTable
from connectors.sandbox.sandbox import Sandbox
from hub.app import create_app
from hub.ingest.pull import Ingest
from hub.settings import Role, Settings, SyncMode
from tests.hub.sync.conftest import wait_until

NODES = {"16.07", "16.71"}


@contextlib.asynccontextmanager
async def pull_worker(settings: Settings, table: NodeTable) -> AsyncIterator[Starlette]:
    """``sp4n-hub worker --role pull`` on the sandbox nodes, polling every 0.2 s."""
    quick = table.only(NODES)
    for config in quick:
        quick = quick.with_node(config.code, poll_interval=0.2)
    worker = replace(
        settings, roles=frozenset({Role.PULL}), sync=SyncMode.OFF, connectors=True, cache_mb=0
    )
    app = create_app(worker, node_table=quick)
    async with app.router.lifespan_context(app):
        yield app


def _ingest(app: Starlette) -> Ingest:
    ingest = app.state.ingest
    assert isinstance(ingest, Ingest)
    return ingest


def _pages(app: Starlette) -> dict[str, int]:
    return {node: s.pages for node, s in _ingest(app).stats.items() if s.pages}


async def test_each_node_is_pulled_by_one_worker_and_taken_over_when_it_stops(
    settings: Settings, table: NodeTable, sandbox: Sandbox
) -> None:
    first_run, second_run = pull_worker(settings, table), pull_worker(settings, table)
    first, second = await first_run.__aenter__(), await second_run.__aenter__()
    running = {first_run: first, second_run: second}
    try:
        await wait_until(
            lambda: _ingest(first).locks.held | _ingest(second).locks.held == NODES,
            what="every node to be pulled by someone",
        )
        held = {app: set(_ingest(app).locks.held) for app in (first, second)}
        # Ten polls later: still one puller per node, and nobody else ever pulled it.
        await asyncio.sleep(2)
        assert not held[first] & held[second]
        assert _ingest(first).locks.held == held[first]
        for app in (first, second):
            assert set(_pages(app)) == held[app]
        # The worker holding the most nodes stops: the other takes them over.
        stopping = max(running, key=lambda run: len(held[running[run]]))
        gone = running.pop(stopping)
        await stopping.__aexit__(None, None, None)
        (survivor,) = running.values()
        await wait_until(lambda: _ingest(survivor).locks.held == NODES, what="the take-over")
        # The nodes' staff change a report each: the survivor pulls the changes.
        assert held[gone]
        for node in held[gone]:
            system = sandbox.systems[node]
            report = next(iter(system.reports.values()))
            label = next(x for x in sorted(system.vocabulary.labels) if x != report.status)
            await sandbox.set_status(node, report.id, label)
        await wait_until(
            lambda: set(_pages(survivor)) == NODES,
            what="the survivor to pull the nodes it took over",
        )
    finally:
        for run in running:
            await run.__aexit__(None, None, None)
