"""A database per test, cloned from a template whose working-day calendar is synced."""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator

import asyncpg
import pytest

from hub.ministry.calendar import CalendarStore
from hub.store.database import Database

_counter = itertools.count()


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture(scope="session")
async def ministry_template(postgres_url: str, template_url: str) -> AsyncIterator[str]:
    """The hub's migrated template plus the holidays of the ``holidays`` package."""
    name = f"sp4n_ministry_template_{os.getpid()}"
    template = template_url.rpartition("/")[2]
    admin = await asyncpg.connect(postgres_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
    finally:
        await admin.close()
    url = _with_database(postgres_url, name)
    db = Database(url, min_size=1, max_size=1)
    await db.open()
    try:
        await CalendarStore(db).sync()
    finally:
        await db.close()
    yield url
    admin = await asyncpg.connect(postgres_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def ministry_url(postgres_url: str, ministry_template: str) -> AsyncIterator[str]:
    name = f"sp4n_ministry_{os.getpid()}_{next(_counter)}"
    template = ministry_template.rpartition("/")[2]
    admin = await asyncpg.connect(postgres_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
        yield _with_database(postgres_url, name)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def db(ministry_url: str) -> AsyncIterator[Database]:
    database = Database(ministry_url, min_size=1, max_size=4)
    await database.open()
    try:
        yield database
    finally:
        await database.close()
