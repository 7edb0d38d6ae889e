"""The hub as an Apollo Federation v2 subgraph (``/subgraph`` with ``SP4N_SUBGRAPH=1``),
composed with a second subgraph (``petitions.py``) by The Guild's composition library and
queried through Hive Gateway, both at the versions the package-lock.json beside this
file pins (``make subgraph-gateway`` installs them)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from hub.api.subgraph import subgraph_sdl
from hub.app import create_app
from hub.cli.main import SUBGRAPH_FILE
from hub.errors import ConfigError
from hub.settings import Settings
from tests.fixtures.app import GraphQLClient, run_node, serving, token_for
from tests.hub.api.subgraph.petitions import Petitions, PetitionsApp
from tests.hub.operations import submit

HERE = Path(__file__).parent
COMPOSE = HERE / "compose.mjs"
GATEWAY = HERE / "node_modules" / "@graphql-hive" / "gateway" / "dist" / "bin.js"
SERVICE = "{ _service { sdl } }"
ENTITIES = """
query($r: [_Any!]!) {
  _entities(representations: $r) {
    __typename
    ... on Report { id title }
    ... on Region { code name }
    ... on Institution { code name }
  }
}
"""


def test_committed_subgraph_sdl_matches_the_code() -> None:
    assert SUBGRAPH_FILE.read_text(encoding="utf-8") == subgraph_sdl(), (
        "schema/subgraph.graphql is stale: run `sp4n-hub export-schema`"
    )


def test_the_subgraph_is_asked_for_in_the_environment() -> None:
    assert Settings.from_env({}).subgraph is False
    assert Settings.from_env({"SP4N_SUBGRAPH": "1"}).subgraph is True
    with pytest.raises(ConfigError, match="SP4N_SUBGRAPH"):
        Settings.from_env({"SP4N_SUBGRAPH": "federated"})


async def test_the_subgraph_is_served_only_when_asked_for(settings: Settings) -> None:
    for on in (False, True):
        app = create_app(replace(settings, subgraph=on))
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://hub.test"
            ) as http,
        ):
            answer = await http.post("/subgraph", json={"query": SERVICE})
            if on:
                assert answer.json()["data"]["_service"]["sdl"] == SUBGRAPH_FILE.read_text()
            else:
                assert answer.status_code == 404
            # The hub's own schema stays free of federation's fields either way.
            plain = (await http.post("/graphql", json={"query": SERVICE})).json()
            assert "Cannot query field '_service'" in plain["errors"][0]["message"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _read(log: Path) -> str:
    return log.read_text(encoding="utf-8", errors="replace")


@contextlib.asynccontextmanager
async def _gateway(supergraph: Path, log: Path) -> AsyncIterator[str]:
    """Hive Gateway serving ``supergraph`` on a free loopback port; yields its URL."""
    node = shutil.which("node")
    assert node is not None, "Node.js is not installed"
    assert GATEWAY.exists(), f"run `npm ci` in {HERE} (make subgraph-gateway)"
    port = _free_port()
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            node,
            str(GATEWAY),
            "supergraph",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            cwd=HERE,  # where its gateway.config.mjs is
            env={**os.environ, "SP4N_SUPERGRAPH": str(supergraph)},
            stdout=out,
            stderr=out,
        )
    url = f"http://127.0.0.1:{port}/graphql"
    try:
        async with httpx.AsyncClient() as http:
            deadline = asyncio.get_running_loop().time() + 90
            while True:
                assert process.returncode is None, f"gateway exited: {_read(log)}"
                assert asyncio.get_running_loop().time() < deadline, _read(log)
                with contextlib.suppress(httpx.TransportError):
                    answer = await http.post(url, json={"query": "{ __typename }"})
                    if answer.status_code == 200:
                        break
                await asyncio.sleep(0.2)
        yield url
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 15)
            except TimeoutError:
                process.kill()
                await process.wait()


@dataclass
class Supergraph:
    app: Starlette
    hub: str
    """The hub's base URL."""
    petitions: Petitions
    gateway: str
    http: httpx.AsyncClient

    async def query(self, query: str, token: str | None = None, **variables: Any) -> Any:
        """An operation through the gateway, as a client of the supergraph sends it."""
        headers = {"authorization": f"Bearer {token}"} if token else {}
        answer = await self.http.post(
            self.gateway, json={"query": query, "variables": variables}, headers=headers
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    async def token(self, name: str, node: str | None, scopes: list[str]) -> str:
        return await token_for(self.app, name, node, scopes)

    def hub_client(self, token: str | None) -> GraphQLClient:
        """A client of the hub's own ``/graphql``."""
        return GraphQLClient(self.http, token)

    async def subgraph(self, query: str, **variables: Any) -> Any:
        """An operation sent to the hub's ``/subgraph`` as the gateway sends one."""
        answer = await self.http.post(
            f"{self.hub}/subgraph", json={"query": query, "variables": variables}
        )
        return answer.json()


async def _sdl(http: httpx.AsyncClient, url: str) -> str:
    answer = await http.post(url, json={"query": SERVICE})
    sdl: str = answer.json()["data"]["_service"]["sdl"]
    return sdl


@pytest.fixture
async def supergraph(settings: Settings, tmp_path: Path) -> AsyncIterator[Supergraph]:
    app = create_app(replace(settings, subgraph=True))
    petitions = Petitions()
    async with (
        serving(app) as hub,
        serving(PetitionsApp(petitions)) as other,
        httpx.AsyncClient(base_url=hub) as http,
    ):
        await asyncio.wait_for(app.state.auto_closer.settled.wait(), timeout=60)
        # The composition reads each subgraph's SDL from the subgraph, as a build step does.
        subgraphs = [
            {"name": "hub", "url": f"{hub}/subgraph", "sdl": await _sdl(http, f"{hub}/subgraph")},
            {
                "name": "petitions",
                "url": f"{other}/graphql",
                "sdl": await _sdl(http, f"{other}/graphql"),
            },
        ]
        (tmp_path / "subgraphs.json").write_text(json.dumps(subgraphs), encoding="utf-8")
        composed = await run_node(COMPOSE, str(tmp_path / "subgraphs.json"))
        (tmp_path / "supergraph.graphql").write_text(composed, encoding="utf-8")
        async with _gateway(tmp_path / "supergraph.graphql", tmp_path / "gateway.log") as url:
            yield Supergraph(app, hub, petitions, url, http)


REPORT = "id title state region { name } institution { code name }"


async def test_the_gateway_joins_the_hubs_reports_with_the_second_subgraph(
    supergraph: Supergraph,
) -> None:
    admin = await supergraph.token("admin", "16", ["province:admin"])
    hub = supergraph.hub_client(admin)
    first = await submit(hub, title="Jalan berlubang di Jalan Merdeka")
    second = await submit(hub, title="Lampu jalan mati di Plaju", regionCode="16.71")
    supergraph.petitions.supporters.update({first["id"]: 120, second["id"]: 7})

    own = {
        r["id"]: (
            await hub.data(f"query($id: ID!) {{ report(id: $id) {{ {REPORT} }} }}", id=r["id"])
        )["report"]
        for r in (first, second)
    }
    # The petition site's list, each report completed by the hub through _entities.
    body = await supergraph.query(f"{{ petitioned {{ {REPORT} supporters }} }}", admin)
    assert body == {
        "data": {
            "petitioned": [
                {**own[first["id"]], "supporters": 120},
                {**own[second["id"]], "supporters": 7},
            ]
        }
    }
    # And the other way: the hub's report, extended by the petition site's field.
    body = await supergraph.query(
        "query($id: ID!) { report(id: $id) { title supporters } }", admin, id=second["id"]
    )
    assert body == {"data": {"report": {"title": second["title"], "supporters": 7}}}


async def test_regions_and_institutions_are_entities_too(supergraph: Supergraph) -> None:
    hub = supergraph.hub_client(None)
    regions = (await hub.data("{ regions { code name } }"))["regions"]
    institutions = [
        edge["node"]
        for edge in (await hub.data("{ institutions { edges { node { code name } } } }"))[
            "institutions"
        ]["edges"]
    ]
    wanted = [
        {"__typename": "Institution", "code": institutions[3]["code"]},
        {"__typename": "Region", "code": regions[5]["code"]},
        {"__typename": "Region", "code": "99.99"},
        {"__typename": "Report", "id": "00000000-0000-0000-0000-000000000000"},
    ]
    body = await supergraph.subgraph(ENTITIES, r=wanted)
    assert body == {
        "data": {
            "_entities": [
                {"__typename": "Institution", **institutions[3]},
                {"__typename": "Region", **regions[5]},
                None,
                None,
            ]
        }
    }
    for bad, says in [
        ({"__typename": "Topic", "id": 1}, "'Topic' is not an entity"),
        ({"__typename": "Region"}, "needs its code"),
        ({"__typename": "Report", "id": "not-a-uuid"}, "is not a report id"),
        ([{"__typename": "Region", "code": "16.71"}] * 101, "at most 100 representations"),
    ]:
        body = await supergraph.subgraph(ENTITIES, r=bad if isinstance(bad, list) else [bad])
        assert body["data"] is None
        [error] = body["errors"]
        assert error["extensions"]["code"] == "BAD_INPUT"
        assert says in error["message"]


CANARY = "KANARI-SUBGRAPH-RAHASIA"
PETITIONED = "{ petitioned { id title content supporters } }"


async def test_privacy_holds_through_the_gateway(supergraph: Supergraph) -> None:
    writer = supergraph.hub_client(await supergraph.token("plg", "16.71", ["node:16.71:write"]))
    secret = await submit(
        writer,
        title=f"Laporan {CANARY}",
        content=f"Isi {CANARY}",
        privacy={"confidential": True},
    )
    public = await submit(writer, title="Sampah menumpuk di Pasar 16 Ilir")
    supergraph.petitions.supporters.update({secret["id"]: 50, public["id"]: 40})
    callers = {
        "public": None,
        "uninvolved node": await supergraph.token("lahat", "16.04", ["node:16.04:read"]),
        "ministry": await supergraph.token("kemen", None, ["ministry:read"]),
        "involved node": await supergraph.token("plg-read", "16.71", ["node:16.71:read"]),
        "province admin": await supergraph.token("admin", "16", ["province:admin"]),
    }
    for role, token in callers.items():
        sees = role in ("involved node", "province admin")
        listed = await supergraph.query(PETITIONED, token)
        by_id = await supergraph.query(
            "query($id: ID!) { report(id: $id) { title content supporters } }",
            token,
            id=secret["id"],
        )
        text = json.dumps([listed, by_id])
        assert (CANARY in text) is sees, (role, text)
        # The public report comes through for everyone, joined with its supporters.
        titles = [r["title"] for r in listed["data"]["petitioned"] if r is not None]
        assert public["title"] in titles, (role, listed)
        if sees:
            assert by_id["data"]["report"] == {
                "title": f"Laporan {CANARY}",
                "content": f"Isi {CANARY}",
                "supporters": 50,
            }
        else:
            assert by_id["data"]["report"] is None, (role, by_id)


async def test_entities_cost_one_statement_however_many(supergraph: Supergraph) -> None:
    admin = supergraph.hub_client(await supergraph.token("admin", "16", ["province:admin"]))
    ids = [(await submit(admin, title=f"Drainase tersumbat nomor {n}"))["id"] for n in range(30)]
    statements = supergraph.app.state.database.statements

    async def cost(listed: list[str]) -> int:
        supergraph.petitions.supporters.clear()
        supergraph.petitions.supporters.update({i: 100 - n for n, i in enumerate(listed)})
        before = statements.count
        body = await supergraph.query("{ petitioned { title state region { name } } }")
        assert len(body["data"]["petitioned"]) == len(listed), body
        assert all(r["title"].startswith("Drainase") for r in body["data"]["petitioned"])
        return int(statements.count - before)

    # The gateway asks the hub for all 30 in one _entities call, which the report
    # DataLoader answers with one statement: as cheap as one report.
    assert await cost(ids[:1]) == 1
    assert await cost(ids) == 1
