"""The audit log: every mutation with its outcome, hash-chained, tampering detected."""

from __future__ import annotations

import asyncio
import os
import sys

import asyncpg
import pytest
from starlette.applications import Starlette

from hub.security.audit import AuditLog
from tests.fixtures.app import GraphQLClient
from tests.fixtures.postgres import ROOT
from tests.hub.operations import VERIFY, key, submit


async def _two_changes_and_a_refusal(gql: GraphQLClient, audit: AuditLog) -> None:
    r = await submit(gql)
    await gql.data(VERIFY, id=r["id"], v=1, key=key())
    await gql.execute(VERIFY, id=r["id"], v=1, key=key())  # stale: VERSION_CONFLICT
    # The hub's sealer chains them shortly after: the lag is bounded (and in /metrics).
    deadline = asyncio.get_running_loop().time() + 10
    while (await audit.pending())[0]:
        assert asyncio.get_running_loop().time() < deadline, "entries left unsealed for 10 s"
        await asyncio.sleep(0.05)


async def test_mutations_are_recorded_with_client_node_and_outcome(
    app: Starlette, gql: GraphQLClient
) -> None:
    await _two_changes_and_a_refusal(gql, app.state.audit)
    rows = await app.state.database.pool.fetch(
        "SELECT client_id, node_code, action, outcome FROM audit_log ORDER BY seq"
    )
    assert [(r["client_id"], r["node_code"], r["action"], r["outcome"]) for r in rows] == [
        ("test-admin", "16", "SUBMIT", "OK"),
        ("test-admin", "16", "VERIFY", "OK"),
        ("test-admin", "16", "VERIFY", "VERSION_CONFLICT"),
    ]
    count, _, problem = await AuditLog(app.state.database).verify()
    assert (count, problem) == (3, None)


@pytest.mark.parametrize(
    ("tamper", "finding"),
    [
        ("UPDATE audit_log SET outcome = 'OK' WHERE id = 3", "entry 3 was altered"),
        ("DELETE FROM audit_log WHERE id = 2", "entry 3 does not follow entry 1"),
        ("UPDATE audit_log SET client_id = 'someone-else' WHERE id = 1", "entry 1 was altered"),
    ],
)
async def test_an_edit_or_a_deletion_is_detected(
    app: Starlette, gql: GraphQLClient, database_url: str, tamper: str, finding: str
) -> None:
    await _two_changes_and_a_refusal(gql, app.state.audit)
    conn = await asyncpg.connect(database_url)
    try:
        with pytest.raises(asyncpg.RestrictViolationError):
            await conn.execute(tamper)  # the trigger refuses ordinary edits...
        # ...so a tamperer with superuser rights switches it off first.
        await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        await conn.execute(tamper)
    finally:
        await conn.close()
    _, _, problem = await AuditLog(app.state.database).verify()
    assert problem == finding

    env = {**os.environ, "DATABASE_URL": database_url}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub.cli",
        "audit",
        "verify",
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode == 1
    assert finding in output.decode()
