"""The database behind the hub under test: seeded once, reused, and the cold case's
cursors taken from it."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import asyncpg

from bench.harness import say
from hub.api.pagination import encode_cursor
from hub.demo.seed import seed_reports, seeded_count
from hub.store.database import Database, with_database

FULL_PAGE_MARGIN = 1_000
"""The oldest reports get no cursor: a page after any cursor holds 50 reports even
if many of those older ones are confidential (hidden from the public)."""


async def prepare_database(server_url: str, count: int) -> tuple[str, float | None]:
    """A migrated database holding ``count`` seeded reports; reused when it already does.

    Returns its URL and the seconds seeding took (None when reused).
    """
    name = f"sp4n_bench_{count}"
    url = with_database(server_url, name)
    for fresh in (False, True):
        admin = await asyncpg.connect(server_url)
        try:
            if fresh:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            exists = await admin.fetchval(
                "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name
            )
            if not exists:
                # An identifier, not a value: it cannot be a parameter; it is built from an int.
                await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        db = Database(url, min_size=1, max_size=1)
        await db.open()
        try:
            await db.migrate()
        finally:
            await db.close()
        conn = await asyncpg.connect(url)
        try:
            have = await seeded_count(conn)
            if have == count:
                say(f"reusing database {name} ({have:,} reports)")
                return url, None
            if have:
                say(f"database {name} holds {have:,} reports, not {count:,}: recreating it")
                continue
            say(f"seeding {count:,} reports into {name}")
            started = time.perf_counter()
            await seed_reports(conn, count, progress=_seed_progress(count))
            elapsed = time.perf_counter() - started
            say(f"seeded {count:,} reports in {elapsed:.1f} s; analysing")
            # Fresh statistics, as a database in steady state would have.
            await conn.execute("ANALYZE")
            return url, elapsed
        finally:
            await conn.close()
    raise RuntimeError(f"could not prepare database {name}")  # pragma: no cover


def _seed_progress(count: int) -> Callable[[int], None]:
    step = max(count // 5, 1)

    def report(done: int) -> None:
        if done % step == 0 or done == count:
            say(f"  seeded {done:,}/{count:,}")

    return report


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a server: ours, minus any hub settings the caller had set."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SP4N_", "KAFKA_")) and key != "DATABASE_URL"
    }
    env.update(extra)
    return env


async def cold_cursors(url: str, count: int) -> list[str]:
    """One ``after`` cursor per report but the oldest ``FULL_PAGE_MARGIN``, newest first:
    the cold case's pages, each starting somewhere else in the index."""
    conn = await asyncpg.connect(url)
    try:
        # The hub's own order and cursor encoding (hub.api.pagination), so each is one
        # the API could have handed out.
        rows = await conn.fetch(
            "SELECT submitted_at, id FROM reports ORDER BY submitted_at DESC, id DESC LIMIT $1",
            max(count - FULL_PAGE_MARGIN, 1),
        )
    finally:
        await conn.close()
    return [encode_cursor(row["submitted_at"], row["id"]) for row in rows]
