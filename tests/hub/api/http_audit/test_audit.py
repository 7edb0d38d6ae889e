"""The GraphQL-over-HTTP spec's reference audit (npm ``graphql-http``) against the hub.

The hub runs under uvicorn on a loopback port; ``audit.mjs`` runs ``auditServer`` from
the version pinned in ``package-lock.json`` (``make test`` runs ``npm ci`` here) and
prints every result. A warning or a notice fails the test as an error does: the hub
keeps all of them ok.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub.settings import Settings
from tests.fixtures.app import run_node, served

HERE = Path(__file__).resolve().parent
AUDIT = HERE / "audit.mjs"
PACKAGE = HERE / "node_modules" / "graphql-http" / "package.json"


@pytest.fixture
async def graphql_url(settings: Settings) -> AsyncIterator[str]:
    async with served(settings) as url:
        yield url


async def _audit(url: str) -> list[dict[str, str | None]]:
    assert PACKAGE.exists(), f"graphql-http is not installed: run `npm ci` in {HERE}"
    results: list[dict[str, str | None]] = json.loads(await run_node(AUDIT, url))
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
