"""Shutting down never hangs on one part: a loop that ignores its stop is cancelled, one
that ignores its cancellation is left behind, a step that does not finish is given up
on, and the pool cuts a connection still lent out. Each is logged for the operator."""

from __future__ import annotations

import asyncio
import logging

import asyncpg
import pytest

from hub import shutdown
from hub.store.database import Database
from tests.fixtures.postgres import opened

GUARD = 30.0
"""Far beyond any grace below: reaching it means the step hung."""


async def test_a_loop_that_stops_when_asked_is_not_cancelled() -> None:
    async def polite(stop: asyncio.Event) -> None:
        await stop.wait()

    stop = asyncio.Event()
    task = asyncio.create_task(polite(stop), name="polite loop")
    async with asyncio.timeout(GUARD):
        await shutdown.stop_loop(task, stop, grace=5)
    assert task.done()
    assert not task.cancelled()


async def test_a_loop_that_ignores_its_stop_is_cancelled(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(asyncio.sleep(3600), name="deaf loop")
    async with asyncio.timeout(GUARD):
        await shutdown.stop_loop(task, stop, grace=0.2)
    assert task.cancelled()
    assert "deaf loop did not stop within 0.2s: cancelled" in caplog.text


async def test_a_loop_that_ignores_its_cancellation_is_left_behind(
    caplog: pytest.LogCaptureFixture,
) -> None:
    release = asyncio.Event()

    async def stubborn(stop: asyncio.Event) -> None:
        while not release.is_set():
            try:
                await release.wait()
            except asyncio.CancelledError:
                continue

    stop = asyncio.Event()
    task = asyncio.create_task(stubborn(stop), name="stubborn loop")
    async with asyncio.timeout(GUARD):
        await shutdown.stop_loop(task, stop, grace=0.2)
    assert not task.done()
    assert "stubborn loop ignored its cancellation for 0.2s: left behind" in caplog.text
    release.set()
    await task


async def test_a_loops_own_error_is_the_shutdowns() -> None:
    async def failing(stop: asyncio.Event) -> None:
        await stop.wait()
        raise RuntimeError("the last pass failed")

    stop = asyncio.Event()
    task = asyncio.create_task(failing(stop))
    with pytest.raises(RuntimeError, match="the last pass failed"):
        await shutdown.stop_loop(task, stop, grace=5)


async def test_a_step_that_does_not_finish_is_given_up_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    finished = []

    async def step() -> None:
        await asyncio.sleep(3600)
        finished.append(True)

    async with asyncio.timeout(GUARD):
        await shutdown.bounded("the connectors' stop", step, grace=0.2)
    assert finished == []
    assert "the connectors' stop did not finish within 0.2s" in caplog.text


async def test_the_pool_cuts_a_connection_still_lent_after_its_grace(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with opened(database_url) as db:
        lent = await db.pool.acquire()
        async with asyncio.timeout(GUARD):
            await db.close(grace=0.2)
        with pytest.raises(asyncpg.InterfaceError):
            await lent.fetchval("SELECT 1")
        assert "connections still in use after 0.2s: the pool was cut" in caplog.text


async def test_the_pool_closes_at_once_when_nothing_is_lent(database_url: str) -> None:
    db = Database(database_url)
    await db.open()
    async with db.session() as session:
        assert await session.raw.fetchval("SELECT 1") == 1
    async with asyncio.timeout(GUARD):
        await db.close(grace=5)
    with pytest.raises(RuntimeError, match="not open"):
        db.pool  # noqa: B018
