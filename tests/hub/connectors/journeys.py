"""What the end-to-end journeys ask of the sandbox nodes' own systems."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from starlette.applications import Starlette

from connectors.config import NodeTable
from connectors.sandbox.sandbox import Sandbox
from schema.lifecycle import ReportState


async def eventually(check: Callable[[], Awaitable[bool]], what: str, within: float = 180) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)


async def held_at(sandbox: Sandbox, node: str, report_id: str) -> str | None:
    """The id the node's system gave the hub's report, once the hub created it there."""
    for external_id, (hub_id, _) in (await sandbox.inventory(node)).items():
        if hub_id == report_id:
            return external_id
    return None


async def shows_label(
    sandbox: Sandbox, table: NodeTable, node: str, report_id: str, state: ReportState
) -> bool:
    """Whether the node's system shows the report in ``state`` in its own status label."""
    label = next(c.status for c in table if c.code == node).to_external(state)
    held = await held_at(sandbox, node, report_id)
    return held is not None and await sandbox.status_of(node, held) == label


async def first_pulls_in(app: Starlette, nodes: list[str]) -> None:
    """Waits until the hub has pulled each of ``nodes`` once (its first pull imports the
    node's whole system), so a journey's steps wait only for routine polls."""
    db = app.state.database

    async def imported() -> bool:
        return len(await db.fetch("pulled_at_by_nodes", nodes)) == len(nodes)

    await eventually(imported, "every node's first pull")
