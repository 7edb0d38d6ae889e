"""Shared fixtures: a real PostgreSQL, a fresh database per test, the hub app."""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette

from hub.app import create_app
from hub.settings import AuthSettings, Limits, Secret, Settings
from hub.store.database import Database
from infra.postgres import EmbeddedPostgres

pytest_plugins = ["tests.kafka_fixtures"]

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = "sp4n_template"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server: ``DATABASE_URL`` if given, else an embedded one."""
    given = os.environ.get("DATABASE_URL")
    if given:
        yield given
        return
    # One cluster per pytest process, so concurrent runs never share a server.
    data_dir = ROOT / ".sp4n" / f"test-postgres-{os.getpid()}"
    server = EmbeddedPostgres(data_dir, durable=False)
    try:
        with server as url:
            yield url
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture(scope="session")
async def template_url(postgres_url: str) -> str:
    """A database migrated to head once per session; each test copies it."""
    admin = await asyncpg.connect(postgres_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{TEMPLATE}"')
    finally:
        await admin.close()
    url = _with_database(postgres_url, TEMPLATE)
    db = Database(url, min_size=1, max_size=1)
    await db.open()
    try:
        await db.migrate()
    finally:
        await db.close()
    return url


_counter = itertools.count()


@pytest.fixture
async def database_url(postgres_url: str, template_url: str) -> AsyncIterator[str]:
    """A fresh database, a copy of the migrated template, dropped after the test."""
    name = f"sp4n_test_{os.getpid()}_{next(_counter)}"
    admin = await asyncpg.connect(postgres_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}" STRATEGY FILE_COPY')
        yield _with_database(postgres_url, name)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


KEY_DIR = ROOT / ".sp4n" / "test-keys"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=Secret(database_url),
        pool_min_size=1,
        pool_max_size=4,
        auth=AuthSettings(key_dir=KEY_DIR),
        limits=Limits(requests_per_second=10_000, burst=10_000),
    )


async def token_for(app: Starlette, client_id: str, node: str | None, scopes: list[str]) -> str:
    """Registers a client and mints a token for it, as /oauth/token would."""
    await app.state.clients.add(client_id, node, scopes)
    token: str = app.state.tokens.issue(client_id, node, frozenset(scopes))
    return token


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        # The auto-close loop syncs the calendar and makes a first pass at start; let it
        # finish so that tests counting statements see only their own.
        await asyncio.wait_for(app.state.auto_closer.settled.wait(), timeout=60)
        yield app


class GraphQLClient:
    """Posts operations to ``/graphql`` over in-process HTTP, with a token if given."""

    def __init__(self, http: httpx.AsyncClient, token: str | None = None) -> None:
        self.http = http
        self.headers = {"authorization": f"Bearer {token}"} if token else {}

    async def execute(self, query: str, **variables: Any) -> dict[str, Any]:
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=self.headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(self, query: str, **variables: Any) -> dict[str, Any]:
        """Executes and insists on success."""
        body = await self.execute(query, **variables)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        yield client


@pytest.fixture
async def gql(app: Starlette, http: httpx.AsyncClient) -> GraphQLClient:
    """A client acting as the province's verifying admin (sees and may do everything)."""
    return GraphQLClient(http, await token_for(app, "test-admin", "16", ["province:admin"]))


@pytest.fixture
def public_gql(http: httpx.AsyncClient) -> GraphQLClient:
    """A caller without a token: the public."""
    return GraphQLClient(http)


# In CI every test must run: a skipped test turns the run red.
_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and os.environ.get("CI"):
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _skipped:
        print(f"\nCI forbids skipped tests; skipped: {', '.join(_skipped)}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
