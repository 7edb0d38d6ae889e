"""Anonymous and confidential reports: canaries never reach a role that may not see them."""

from __future__ import annotations

import json
import logging
from typing import Any

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette

from tests.fixtures.app import GraphQLClient, token_for
from tests.hub.operations import submission

CANARY = {
    "anon": "KANARI-ANON-{}",
    "conf": "KANARI-CONF-{}",
}

NIK = {"anon": "1671010101900001", "conf": "1671010101900002"}

READ = """
query($id: ID!) {
  report(id: $id) { id title content reporter { name nik phone email } }
  reports(first: 100) { totalCount edges { node { id title content reporter { name nik } } } }
}
"""


async def _report(palembang: GraphQLClient, kind: str, **privacy: bool) -> tuple[str, str]:
    canary = CANARY[kind].format("X")
    body = await palembang.data(
        "mutation($i: SubmitReportInput!, $k: String!) { submitReport(input: $i, "
        "idempotencyKey: $k) { id } }",
        i=submission(
            title=f"Laporan {canary}",
            content=f"Isi {canary}",
            privacy=privacy,
            reporter={"name": f"Nama {canary}", "nik": NIK[kind], "email": "pelapor@example.id"},
        ),
        k=f"privacy-{kind}",
    )
    return body["submitReport"]["id"], canary


@pytest.fixture
async def callers(app: Starlette, http: httpx.AsyncClient) -> dict[str, GraphQLClient]:
    async def client(name: str, node: str | None, scopes: list[str]) -> GraphQLClient:
        return GraphQLClient(http, await token_for(app, name, node, scopes))

    return {
        "public": GraphQLClient(http),
        "ministry": await client("kemen", None, ["ministry:read"]),
        "uninvolved node": await client("lahat", "16.04", ["node:16.04:read"]),
        "involved node": await client("plg-read", "16.71", ["node:16.71:read"]),
        "province admin": await client("admin", "16", ["province:admin"]),
        "palembang writer": await client("plg", "16.71", ["node:16.71:write"]),
    }


def _text(body: dict[str, Any]) -> str:
    return json.dumps(body)


# (role, sees the anonymous report's content, sees its identity,
#  sees the confidential report at all, sees its identity)
TABLE = [
    ("public", True, False, False, False),
    ("ministry", True, False, False, False),
    ("uninvolved node", True, False, False, False),
    ("involved node", True, False, True, True),
    ("province admin", True, True, True, True),
]


@pytest.mark.parametrize(("role", "anon_content", "anon_id", "conf_seen", "conf_id"), TABLE)
async def test_each_role_sees_what_the_privacy_table_allows(
    callers: dict[str, GraphQLClient],
    database_url: str,
    caplog: pytest.LogCaptureFixture,
    role: str,
    anon_content: bool,
    anon_id: bool,
    conf_seen: bool,
    conf_id: bool,
) -> None:
    caplog.set_level(logging.DEBUG)
    writer = callers["palembang writer"]
    anon_id_value, anon = await _report(writer, "anon", anonymous=True)
    conf_id_value, conf = await _report(writer, "conf", confidential=True)
    caller = callers[role]

    anon_body = _text(await caller.execute(READ, id=anon_id_value))
    assert (f"Isi {anon}" in anon_body) is anon_content
    assert (f"Nama {anon}" in anon_body) is anon_id
    assert (NIK["anon"] in anon_body) is anon_id

    conf_body = _text(await caller.execute(READ, id=conf_id_value))
    assert (f"Isi {conf}" in conf_body) is conf_seen
    assert (f"Nama {conf}" in conf_body) is conf_id
    assert (NIK["conf"] in conf_body) is conf_id
    if not conf_seen:
        assert json.loads(conf_body)["data"]["report"] is None

    # Never in logs, never in the events on their way to Kafka.
    assert "Nama KANARI" not in caplog.text
    assert NIK["anon"] not in caplog.text
    assert NIK["conf"] not in caplog.text
    conn = await asyncpg.connect(database_url)
    try:
        events = " ".join(r["data"] for r in await conn.fetch("SELECT data FROM outbox"))
    finally:
        await conn.close()
    assert "KANARI" not in events
    assert NIK["anon"] not in events
    assert NIK["conf"] not in events


async def test_errors_do_not_echo_report_content(callers: dict[str, GraphQLClient]) -> None:
    writer = callers["palembang writer"]
    rid, canary = await _report(writer, "conf", confidential=True)
    body = await callers["public"].execute(
        "mutation($id: ID!) { verifyReport(id: $id, expectedVersion: 1, "
        'idempotencyKey: "k-err-001") { id } }',
        id=rid,
    )
    assert "KANARI" not in _text(body)
    lahat = callers["uninvolved node"]
    body = await lahat.execute(
        "query($id: ID!) { report(id: $id) { title } }",
        id=rid,
    )
    assert body["data"]["report"] is None
    assert canary not in _text(body)


async def test_identity_reads_are_audited(
    app: Starlette, callers: dict[str, GraphQLClient]
) -> None:
    rid, _ = await _report(callers["palembang writer"], "conf", confidential=True)
    await callers["province admin"].data(
        "query($id: ID!) { report(id: $id) { reporter { nik } } }", id=rid
    )
    rows = await app.state.database.pool.fetch(
        "SELECT client_id, action, report_id::text AS rid, outcome FROM audit_log "
        "WHERE action = 'READ_IDENTITY'"
    )
    assert [(r["client_id"], r["rid"]) for r in rows] == [("admin", rid)]
    assert "nik" in rows[0]["outcome"]
