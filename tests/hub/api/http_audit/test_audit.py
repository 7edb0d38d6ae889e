"""The GraphQL-over-HTTP spec's reference audit (npm ``graphql-http``) against the hub.

The hub runs under uvicorn on a loopback port; ``audit.mjs`` runs ``auditServer`` from
the version pinned in ``package-lock.json`` (``make test`` runs ``npm ci`` here) and
prints every result. A warning or a notice fails the test as an error does: the hub
keeps all of them ok.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn

from hub.app import create_app
from hub.settings import Settings
from tests.hub.sync.conftest import wait_until

HERE = Path(__file__).resolve().parent
AUDIT = HERE / "audit.mjs"
PACKAGE = HERE / "node_modules" / "graphql-http" / "package.json"


@pytest.fixture
async def graphql_url(settings: Settings) -> AsyncIterator[str]:
    """The hub's ``/graphql`` under uvicorn on a free loopback port."""
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        await wait_until(lambda: server.started or task.done(), what="uvicorn to start")
        assert server.started, task.exception() if task.done() else "not started"
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}/graphql"
    finally:
        server.should_exit = True
        await task


async def _audit(url: str) -> list[dict[str, str | None]]:
    node = shutil.which("node")
    assert node is not None, "Node.js is not installed"
    assert PACKAGE.exists(), f"graphql-http is not installed: run `npm ci` in {HERE}"
    # A subprocess, not a thread: the hub keeps serving on this event loop meanwhile.
    process = await asyncio.create_subprocess_exec(
        node,
        str(AUDIT),
        url,
        cwd=HERE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()
    results: list[dict[str, str | None]] = json.loads(out)
    return results


async def test_the_graphql_over_http_audit_is_all_ok(graphql_url: str) -> None:
    results = await _audit(graphql_url)
    version = json.loads(PACKAGE.read_text("utf-8"))["version"]
    counts = Counter(str(row["status"]) for row in results)
    print(f"graphql-http {version} audit: " + ", ".join(f"{n} {s}" for s, n in counts.items()))
    failed = [
        f"{row['status']} {row['id']} {row['name']}: {row['reason']} (got {row['got']})"
        for row in results
        if row["status"] != "ok"
    ]
    assert not failed, "\n".join(failed)
    assert len(results) >= 61  # the audit ran in full (1.23.1 has 61)
