"""A throwaway embedded PostgreSQL and Apache Kafka broker for a benchmark run."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg

from bench.harness import ROOT, say
from infra.kafka import KafkaBroker
from infra.postgres import EmbeddedPostgres


@dataclass(frozen=True, slots=True)
class Stack:
    database_url: str
    """A fresh, empty database of its own."""
    bootstrap: str
    postmaster: int
    broker: int | None
    """Process ids, for measuring CPU (``bench.harness.CpuMeter``)."""


@contextlib.asynccontextmanager
async def stack(name: str) -> AsyncIterator[Stack]:
    """Starts both (data under ``.sp4n/bench-<name>-*``, PostgreSQL ``durable=False``),
    creates a fresh database ``sp4n_<name>`` (the last run's is dropped), and stops both
    when done."""
    postgres = EmbeddedPostgres(ROOT / ".sp4n" / f"bench-{name}-postgres", durable=False)
    broker = KafkaBroker(ROOT / ".sp4n" / f"bench-{name}-kafka")
    say("starting PostgreSQL and the Kafka broker")
    server_url, bootstrap = await asyncio.gather(
        asyncio.to_thread(postgres.start), broker.start_async()
    )
    try:
        database = f"sp4n_{name.replace('-', '_')}_bench"
        admin = await asyncpg.connect(server_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{database}"')
        finally:
            await admin.close()
        postmaster = int((postgres.pgdata / "postmaster.pid").read_text().split()[0])
        url = f"{server_url.rpartition('/')[0]}/{database}"
        yield Stack(url, bootstrap, postmaster, broker.pid)
    finally:
        say("stopping the Kafka broker and PostgreSQL")
        await broker.stop_async()
        await asyncio.to_thread(postgres.stop)
