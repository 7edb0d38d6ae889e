"""A database per test, cloned from a template whose working-day calendar is synced."""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator

import pytest

from hub.ministry.calendar import CalendarStore
from hub.store.database import Database
from tests.fixtures.postgres import create_database, database_name, drop_database, opened

_counter = itertools.count()


@pytest.fixture(scope="session")
async def ministry_template(postgres_url: str, template_url: str) -> AsyncIterator[str]:
    """The hub's migrated template plus the holidays of the ``holidays`` package."""
    name = f"sp4n_ministry_template_{os.getpid()}"
    url = await create_database(postgres_url, name, template=database_name(template_url))
    db = Database(url, min_size=1, max_size=1)
    await db.open()
    try:
        await CalendarStore(db).sync()
    finally:
        await db.close()
    yield url
    await drop_database(postgres_url, name)


@pytest.fixture
async def ministry_url(postgres_url: str, ministry_template: str) -> AsyncIterator[str]:
    name = f"sp4n_ministry_{os.getpid()}_{next(_counter)}"
    yield await create_database(postgres_url, name, template=database_name(ministry_template))
    await drop_database(postgres_url, name)


@pytest.fixture
async def db(ministry_url: str) -> AsyncIterator[Database]:
    async with opened(ministry_url) as database:
        yield database
