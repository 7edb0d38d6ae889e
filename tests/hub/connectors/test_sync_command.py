"""``sp4n-hub sync``: an initial pull from the command line."""

from __future__ import annotations

import asyncio

import pytest

from connectors.sandbox.sandbox import Sandbox
from hub.cli.main import main
from hub.store.database import Database


async def test_sync_once_pulls_the_chosen_nodes_into_the_index(
    sandbox: Sandbox, database_url: str, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in sandbox.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DATABASE_URL", database_url)
    # The command runs its own event loop; the sandbox keeps serving in this one.
    code = await asyncio.to_thread(main, ["sync", "--once", "--node", "16.07", "--node", "lapor"])
    assert code == 0
    rows = await db.pool.fetch("SELECT node_code, count(*) AS n FROM external_refs GROUP BY 1")
    assert {r["node_code"]: r["n"] for r in rows} == {
        "16.07": len(await sandbox.inventory("16.07")),
        "lapor": len(await sandbox.inventory("lapor")),
    }
    assert {r["node_code"] for r in await db.fetch("watermarks")} == {"16.07", "lapor"}


async def test_sync_names_a_bad_node_table(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SP4N_NODE_TABLE", "/nonexistent/nodes.toml")
    assert await asyncio.to_thread(main, ["sync", "--once"]) == 2
