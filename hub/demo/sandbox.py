"""The demo's federation: the 19 sandbox node systems, live, beside the hub.

``sp4n-hub demo`` starts the sandbox servers on loopback ports (the two
database-only nodes in their own database on the demo's PostgreSQL), points the
node table at them, and lets their staff move reports on every few seconds, so
the hub's pulls and write-backs are visibly at work.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Iterable, Mapping
from pathlib import Path

import asyncpg

from connectors.config import NodeTable
from connectors.sandbox.sandbox import Sandbox
from hub.store.database import Database, with_database

_log = logging.getLogger(__name__)

SANDBOX_DATABASE = "sp4n_sandbox"
POLL_SECONDS = 5.0
"""How often the demo pulls each sandbox node (the packaged table says 15-60 s)."""
TICK_SECONDS = 3.0
"""How often the sandbox's staff move reports on (or citizens file new ones)."""
TICK_CHANGES = 3
"""Nodes whose staff act at each tick."""


async def sandbox_database(url: str) -> str:
    """The URL of the sandbox's own database beside the hub's, created if missing.

    Where the server will not let us create one, the node schemas (``simpel_*``)
    go into the hub's database instead.
    """
    db = Database(url, min_size=1, max_size=1)
    await db.open()
    try:
        if not await db.fetchval("sandbox_database_exists"):
            await db.execute("create_sandbox_database")
    except asyncpg.InsufficientPrivilegeError:
        _log.warning("may not create database %s; the sandbox uses the hub's", SANDBOX_DATABASE)
        return url
    finally:
        await db.close()
    return with_database(url, SANDBOX_DATABASE)


async def forget_sandbox(url: str, held: Mapping[str, Iterable[str]]) -> None:
    """The sandbox starts afresh each run: what the hub kept of the previous run's
    sandbox (how far it pulled each node, the ids the nodes gave reports in that
    run) no longer holds, and would skip new changes or point at the wrong report
    once the reset systems hand the same ids out again. ``held`` is what each
    fresh node holds (its seed, identical each run): links to those ids stay."""
    nodes = list(held)
    pairs = [(node, external_id) for node in nodes for external_id in held[node]]
    db = Database(url, min_size=1, max_size=1)
    await db.open()
    try:
        await db.execute("forget_node_watermarks", nodes)
        await db.execute(
            "forget_links_made_by_hub",
            nodes,
            [node for node, _ in pairs],
            [external_id for _, external_id in pairs],
        )
    finally:
        await db.close()


def demo_node_table(sandbox: Sandbox, path: Path | None) -> NodeTable:
    """The node table pointed at ``sandbox``, every pulled node polled quickly."""
    table = sandbox.node_table(path)
    for config in table:
        table = table.with_node(config.code, poll_interval=POLL_SECONDS)
    return table


@contextlib.asynccontextmanager
async def running_sandbox(url: str) -> AsyncIterator[Sandbox]:
    """The 19 sandbox nodes, serving and ticking, until the block ends."""
    sandbox = Sandbox(postgres_url=await sandbox_database(url))
    await sandbox.start()
    try:
        # Push nodes keep no reports in the sandbox: nothing of theirs to forget.
        stores = [n for n in sandbox.nodes if n in sandbox.systems or n in sandbox.databases]
        held = {node: list(await sandbox.inventory(node)) for node in stores}
        await forget_sandbox(url, held)
        sandbox.start_ticking(TICK_SECONDS, TICK_CHANGES)
        yield sandbox
    finally:
        await sandbox.stop()
