"""Apollo Client, unchanged, against the hub: automatic persisted queries, and a hub
that runs only its trusted documents. ``apq.mjs`` drives Apollo Client 4 with its
``PersistedQueryLink`` (pinned in ``package-lock.json``; ``make test`` runs ``npm ci``
here) and reports what went over the wire."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

from hub.settings import Settings
from tests.fixtures.app import run_node, served

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "apq.mjs"


def _wire(case: dict[str, Any]) -> list[tuple[str, bool]]:
    """(method, whether the query text was sent) of each request of a case."""
    return [(w["method"], w["query"]) for w in case["wire"]]


async def test_apollo_clients_persisted_queries_link_works_unchanged(settings: Settings) -> None:
    async with served(settings) as url:
        first, again, get_first, get_again, other = json.loads(await run_node(SCRIPT, url, "run"))
    # The hub did not know the hash: the client sent the query, and got its answer.
    assert _wire(first) == [("POST", False), ("POST", True)]
    assert len(first["data"]["regions"]) == 18
    # A new client (nothing in its memory) sends only the hash: the hub remembered.
    assert _wire(again) == [("POST", False)]
    assert again["data"] == first["data"]
    # The same over GET, as Apollo does for hashed queries when asked.
    assert _wire(get_first) == [("GET", False), ("POST", True)]
    assert _wire(get_again) == [("GET", False)]
    assert get_again["data"]["reports"]["totalCount"] == 0
    assert _wire(other) == [("POST", False), ("POST", True)]
    assert other["data"]["topics"]


async def test_a_hash_that_is_not_the_querys_is_refused(settings: Settings) -> None:
    async with served(settings) as url, httpx.AsyncClient() as http:
        query = "{ regions { code } }"
        wrong = {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}
        body = (await http.post(url, json={"query": query, "extensions": wrong})).json()
        assert body["errors"][0]["extensions"]["code"] == "BAD_INPUT"
        assert "hash" in body["errors"][0]["message"]
        unknown = {"persistedQuery": {"version": 1, "sha256Hash": "1" * 64}}
        found = (await http.post(url, json={"extensions": unknown})).json()
        assert found["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        assert "data" not in found


async def _documents_add(settings: Settings, *files: str) -> tuple[int, str]:
    """``sp4n-hub documents add FILE...`` as an operator runs it."""
    assert settings.database_url is not None
    env = {**os.environ, "DATABASE_URL": settings.database_url.value}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hub.cli", "documents", "add", *files,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode()


async def _over_websocket(
    url: str, unregistered: str, registered: str
) -> tuple[dict[str, Any], dict[str, Any], str | None]:
    """Both documents over graphql-transport-ws (the first answer to each), and the
    subprotocol the hub picks when offered only the legacy graphql-ws."""
    ws_url = url.replace("http://", "ws://")
    transport_ws = [Subprotocol("graphql-transport-ws")]
    async with connect(ws_url, subprotocols=transport_ws) as socket:
        await socket.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await socket.recv())["type"] == "connection_ack"
        answers = []
        for n, query in enumerate((unregistered, registered)):
            subscribe = {"id": str(n), "type": "subscribe", "payload": {"query": query}}
            await socket.send(json.dumps(subscribe))
            answers.append(json.loads(await asyncio.wait_for(socket.recv(), 30)))
    try:
        async with connect(ws_url, subprotocols=[Subprotocol("graphql-ws")]) as legacy:
            chosen = legacy.subprotocol
    except (InvalidStatus, ConnectionClosed):
        chosen = None
    return answers[0], answers[1], chosen


async def test_a_hub_of_trusted_documents_runs_only_those(
    settings: Settings, tmp_path: Path
) -> None:
    printed: dict[str, str] = json.loads(await run_node(SCRIPT, "http://unused/", "print"))
    files = []
    for name in ("regions", "total"):
        path = tmp_path / f"{name}.graphql"
        path.write_text(printed[name], encoding="utf-8")
        files.append(str(path))
    # A document that does not fit the schema stops the whole command: nothing is added.
    bad = tmp_path / "bad.graphql"
    bad.write_text("{ regions { nonsense } }", encoding="utf-8")
    code, said = await _documents_add(settings, *files, str(bad))
    assert code == 1
    assert "bad.graphql" in said
    assert "nonsense" in said
    assert "nothing was added" in said
    # Written with Windows line ends: registered by the hash of exactly those bytes.
    crlf = tmp_path / "crlf.graphql"
    crlf_text = "query Codes {\r\n  regions {\r\n    code\r\n  }\r\n}\r\n"
    crlf.write_bytes(crlf_text.encode())
    code, said = await _documents_add(settings, *files, str(crlf))
    assert code == 0, said
    assert said.count("added") == 3
    assert hashlib.sha256(crlf_text.encode()).hexdigest() in said

    trusted = dataclasses.replace(settings, trusted_documents=True)
    async with served(trusted) as url:
        over_socket = await _over_websocket(url, "{ regions { code } }", printed["regions"])
        regions, _, total, _, topics = json.loads(await run_node(SCRIPT, url, "run"))
        async with httpx.AsyncClient() as http:
            sent_whole = (await http.post(url, json={"query": "{ regions { code } }"})).json()
            registered = (await http.post(url, json={"query": printed["regions"]})).json()
            # However it is framed: a type spelt otherwise, or one the hub does not read.
            shouting = await http.post(
                url, content=b'{"query": "{ regions { code } }"}',
                headers={"content-type": "APPLICATION/JSON"},
            )  # fmt: skip
            form = await http.post(url, data={"query": "{ regions { code } }"})
    # Registered documents run from their hash at once, over POST and GET alike.
    assert _wire(regions) == [("POST", False)]
    assert len(regions["data"]["regions"]) == 18
    assert _wire(total) == [("GET", False)]
    # Anything else is refused with a code the client does not take for "send it again".
    assert _wire(topics) == [("POST", False)]
    assert [e["code"] for e in topics["errors"]] == ["DOCUMENT_NOT_TRUSTED"]
    assert sent_whole["errors"][0]["extensions"]["code"] == "DOCUMENT_NOT_TRUSTED"
    assert len(registered["data"]["regions"]) == 18
    for refused in (shouting, form):
        assert refused.json()["errors"][0]["extensions"]["code"] == "DOCUMENT_NOT_TRUSTED"
    # Over a WebSocket alike: the unregistered operation is refused, the registered runs;
    # the legacy protocol, which would run anything, is not spoken.
    unregistered, registered_ws, legacy = over_socket
    assert unregistered["type"] == "error"
    assert unregistered["payload"][0]["extensions"]["code"] == "DOCUMENT_NOT_TRUSTED"
    assert registered_ws["type"] == "next"
    assert len(registered_ws["payload"]["data"]["regions"]) == 18
    assert legacy is None
