"""Fixtures for the hub's connector wiring: the sandbox, a migrated database, started connectors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from connectors.config import NodeTable
from connectors.federation import Federation
from connectors.protocol import Dependencies
from connectors.registry import default_registry
from hub.domain.service import ReportService
from hub.ingest import HubDirectory, Ingest
from hub.store.database import Database
from tests.connectors.conftest import sandbox, sandbox_database, table

__all__ = ["sandbox", "sandbox_database", "table"]


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, min_size=1, max_size=4)
    await database.open()
    try:
        yield database
    finally:
        await database.close()


@dataclass
class Hub:
    db: Database
    service: ReportService
    federation: Federation
    ingest: Ingest


@pytest.fixture
async def hub(db: Database, table: NodeTable) -> AsyncIterator[Hub]:
    """The write path and every sandbox node's started connector, no HTTP app."""
    service = ReportService(db)
    federation = default_registry().build(table, Dependencies(directory=HubDirectory(db)))
    await federation.start()
    try:
        yield Hub(db, service, federation, Ingest(db, service, federation))
    finally:
        await federation.stop()
