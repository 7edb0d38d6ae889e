"""The abuse corpus: refused with 4xx before any resolver or SQL runs, while normal
traffic keeps flowing; plus the HTTP rules of the GraphQL endpoint."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from hub.app import create_app
from hub.settings import AuthSettings, Limits, Profile, Secret, Settings
from hub.store.database import StatementCounter
from tests.fixtures.app import KEY_DIR


def _deep(levels: int) -> str:
    inner = "name"
    for _ in range(levels):
        inner = f"parent {{ {inner} }}"
    return f"{{ topics {{ {inner} }} }}"


def _aliases(count: int) -> str:
    fields = " ".join(f"a{i}: regions {{ code }}" for i in range(count))
    return f"query {{ ...Many }} fragment Many on Query {{ {fields} }}"


CORPUS = {
    "depth 50": _deep(50),
    "1,000 aliases through a fragment": _aliases(1000),
    "circular fragments": "query { ...A } fragment A on Query { ...B } "
    "fragment B on Query { regions { code } ...A }",
    "10,000 __typename": "{ " + "__typename " * 10_000 + "}",
    "first: 99999999": "{ reports(first: 99999999) { edges { node { id } } } }",
    "a page too costly": "{ reports(first: 100) { edges { node { history { version } "
    + " ".join(f"h{i}: history {{ version at note }}" for i in range(40))
    + " } } } }",
}


@pytest.mark.parametrize("case", sorted(CORPUS))
async def test_abusive_operations_are_refused_before_any_resolver(
    app: Starlette, http: httpx.AsyncClient, case: str
) -> None:
    counter: StatementCounter = app.state.database.statements
    before = counter.count
    normal = asyncio.create_task(http.post("/graphql", json={"query": "{ regions { code } }"}))
    response = await http.post("/graphql", json={"query": CORPUS[case]})
    assert 400 <= response.status_code < 500, response.text[:300]
    assert response.json()["data"] is None
    ok = await normal
    assert ok.status_code == 200
    assert len(ok.json()["data"]["regions"]) == 18
    # Only the normal query touched the database.
    assert counter.count - before == 1


async def test_a_two_megabyte_body_is_refused(http: httpx.AsyncClient) -> None:
    body = json.dumps({"query": "{ regions { code } }", "variables": {"x": "y" * 2_000_000}})
    response = await http.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


async def test_http_rules(http: httpx.AsyncClient) -> None:
    mutation = (
        'mutation { verifyReport(id: "x", expectedVersion: 1, idempotencyKey: "k-0000001") { id } }'
    )
    over_get = await http.get("/graphql", params={"query": mutation})
    assert 400 <= over_get.status_code < 500
    batch = await http.post("/graphql", json=[{"query": "{ regions { code } }"}] * 2)
    assert 400 <= batch.status_code < 500
    # CSRF: simple requests a browser would send cross-site without a preflight.
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        simple = await http.post(
            "/graphql",
            content='{"query": "{ regions { code } }"}',
            headers={"content-type": content_type},
        )
        assert 400 <= simple.status_code < 500, content_type


@pytest.fixture
async def production(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=Secret(database_url),
        profile=Profile.PRODUCTION,
        auth=AuthSettings(key_dir=KEY_DIR),
        limits=Limits(requests_per_second=1, burst=3),
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as http:
            yield http


async def test_production_hides_the_schema_and_limits_the_rate(
    production: httpx.AsyncClient,
) -> None:
    introspection = await production.post(
        "/graphql", json={"query": "{ __schema { types { name } } }"}
    )
    assert introspection.status_code == 400
    assert introspection.json()["data"] is None
    typo = await production.post("/graphql", json={"query": "{ regoins { code } }"})
    assert "Did you mean" not in typo.text
    third = await production.post("/graphql", json={"query": "{ regions { code } }"})
    assert third.status_code == 200
    limited = await production.post("/graphql", json={"query": "{ regions { code } }"})
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
