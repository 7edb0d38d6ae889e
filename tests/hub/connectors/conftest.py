"""Fixtures for the hub's connector wiring: the sandbox, a migrated database, started connectors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

import httpx
import pytest
from starlette.applications import Starlette

from connectors.config import NodeTable
from connectors.federation import Federation
from hub import wiring
from hub.app import create_app
from hub.domain.review import ReviewDesk
from hub.domain.service import ReportService
from hub.ingest.pull import Ingest
from hub.settings import Settings, SyncMode
from hub.store.database import Database
from tests.fixtures.app import GraphQLClient, token_for


@dataclass
class Hub:
    db: Database
    service: ReportService
    federation: Federation
    ingest: Ingest
    review: ReviewDesk


@pytest.fixture
async def hub(settings: Settings, table: NodeTable) -> AsyncIterator[Hub]:
    """The write path and every sandbox node's started connector, no HTTP app, no sync
    loops: built by the hub's own wiring."""
    pulling = replace(settings, connectors=True, sync=SyncMode.OFF)
    built = wiring.components(pulling, env={}, node_table=table)
    assert built.federation is not None
    assert built.ingest is not None
    await built.db.open()
    try:
        await built.federation.start()
        try:
            yield Hub(built.db, built.service, built.federation, built.ingest, built.review)
        finally:
            await built.federation.stop()
    finally:
        await built.db.close()


@pytest.fixture
async def connected_app(settings: Settings, table: NodeTable) -> AsyncIterator[Starlette]:
    """The whole hub on the in-process bus, serving three sandbox nodes through their
    connectors (a regency, the province, LAPOR), pulling every 0.2 s."""
    quick = table.only({"16.07", "16", "lapor"})
    for config in quick:
        quick = quick.with_node(config.code, poll_interval=0.2)
    app = create_app(replace(settings, sync=SyncMode.MEMORY, connectors=True), node_table=quick)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def admin_gql(connected_app: Starlette) -> AsyncIterator[GraphQLClient]:
    """The province's verifying admin, talking to ``connected_app``."""
    token = await token_for(connected_app, "test-admin", "16", ["province:admin"])
    transport = httpx.ASGITransport(app=connected_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        yield GraphQLClient(client, token)
