"""Process roles: ``sp4n-hub serve`` is the API alone, ``sp4n-hub worker`` the background
work without HTTP, and changes written through API replicas are published once however
many relay workers share the outbox."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette

from connectors.sandbox.sandbox import Sandbox
from hub.app import create_app
from hub.cli.main import worker_settings
from hub.errors import ConfigError
from hub.settings import (
    ALL_ROLES,
    WORKER_ROLES,
    AuthSettings,
    Limits,
    Role,
    Secret,
    Settings,
    SyncMode,
)
from hub.store.database import Database
from hub.sync.bus import Topics
from hub.sync.kafka import KafkaBus
from hub.sync.relay import OutboxRelay
from hub.sync.supervisor import SyncSupervisor
from infra.postgres import free_port
from tests.doubles import RecordingSink, recording_sinks
from tests.fixtures.app import KEY_DIR, GraphQLClient, token_for
from tests.fixtures.postgres import ROOT
from tests.hub.processes import HubProcess, hub_env
from tests.hub.sync.conftest import wait_until

SUBMIT = """mutation($key: String!) {
  submitReport(idempotencyKey: $key, input: {
    kind: COMPLAINT, complaintSubKind: NON_SUPERVISORY, regionCode: "16.71", topicId: 301,
    channel: MOBILE_APP, title: "Lampu jalan padam di Jalan Sudirman",
    content: "Sudah seminggu lampu jalan padam di depan sekolah."
  }) { id version }
}"""
VERIFY = """mutation($id: ID!, $key: String!) {
  verifyReport(id: $id, expectedVersion: 1, idempotencyKey: $key) { version }
}"""
BACKGROUND = {"outbox relay", "audit sealer", "ministry projection", "auto-close", "pulls"}
"""The names of the worker roles' loops (and ``sink <node>`` for each sink)."""


@pytest.fixture
def kafka_settings(database_url: str, kafka_bootstrap: str) -> Settings:
    return Settings(
        database_url=Secret(database_url),
        auth=AuthSettings(key_dir=KEY_DIR),
        limits=Limits(requests_per_second=10_000, burst=10_000),
        pool_min_size=1,
        pool_max_size=6,
        sync=SyncMode.KAFKA,
        kafka_bootstrap_servers=kafka_bootstrap,
        kafka_partitions=3,
        kafka_topic_prefix=f"t{uuid.uuid4().hex[:10]}.",
    )


@contextlib.asynccontextmanager
async def running(settings: Settings, roles: frozenset[Role]) -> AsyncIterator[Starlette]:
    """A hub process of ``roles`` (each node's sink a recording double), started."""
    app = create_app(replace(settings, roles=roles), sinks=recording_sinks())
    async with app.router.lifespan_context(app):
        yield app


@contextlib.asynccontextmanager
async def client(app: Starlette, token: str) -> AsyncIterator[GraphQLClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as http:
        yield GraphQLClient(http, token)


async def _unpublished(db: Database) -> int:
    count: int = await db.fetchval("outbox_backlog")
    return count


async def _unsealed(db: Database) -> int:
    count: int = await db.pool.fetchval("SELECT count(*) FROM audit_log WHERE seq IS NULL")
    return count


def _background_tasks() -> set[str]:
    names = {t.get_name() for t in asyncio.all_tasks()}
    return {n for n in names if n in BACKGROUND or n.startswith("sink ")}


async def test_serve_is_the_api_alone_and_a_worker_does_the_rest(
    kafka_settings: Settings,
) -> None:
    async with running(kafka_settings, frozenset({Role.API})) as api:
        assert _background_tasks() == set()
        sync: SyncSupervisor = api.state.sync
        assert sync.relay is None
        assert sync.workers == {}
        token = await token_for(api, "palembang-app", "16.71", ["node:16.71:write"])
        async with client(api, token) as gql:
            submitted = (await gql.data(SUBMIT, key="roles-key-1"))["submitReport"]
        assert submitted["version"] == 1
        db: Database = api.state.database
        # Nobody relays, seals or projects here: the change waits for a worker.
        await asyncio.sleep(1.5)
        assert await _unpublished(db) == 1
        assert await _unsealed(db) > 0
        async with running(kafka_settings, WORKER_ROLES) as worker:
            assert {"outbox relay", "audit sealer", "ministry projection"} <= _background_tasks()
            await wait_until(
                lambda: _drained(db), within=30, what="the worker to relay and seal the change"
            )
            lapor: RecordingSink = worker.state.sync.workers["lapor"].sink
            await wait_until(
                lambda: any(e.report_id == submitted["id"] for e in lapor.received),
                within=30,
                what="the worker's lapor sink to apply the change",
            )


async def _drained(db: Database) -> bool:
    return await _unpublished(db) == 0 and await _unsealed(db) == 0


async def test_changes_through_the_api_are_published_once_by_two_relay_workers(
    kafka_settings: Settings,
) -> None:
    relay_only = frozenset({Role.RELAY})
    reports, published = 150, 0
    async with contextlib.AsyncExitStack() as stack:
        api = await stack.enter_async_context(running(kafka_settings, frozenset({Role.API})))
        first = await stack.enter_async_context(running(kafka_settings, relay_only))
        second_run = running(kafka_settings, relay_only)
        second = await second_run.__aenter__()
        await wait_until(
            lambda: sorted(len(_relay(w).slices) for w in (first, second)) == [8, 8],
            within=20,
            what="the two relay workers to hold 8 slices each",
        )
        node = await token_for(api, "palembang-app", "16.71", ["node:16.71:write"])
        admin = await token_for(api, "test-admin", "16", ["province:admin"])
        async with client(api, node) as app_gql, client(api, admin) as admin_gql:

            async def one(n: int) -> None:
                report = (await app_gql.data(SUBMIT, key=f"once-key-{n}"))["submitReport"]
                await admin_gql.data(VERIFY, id=report["id"], key=f"verify-key-{n}")

            for start in range(0, reports, 10):
                if start == reports // 2:
                    # One worker stops mid-stream and comes back: the slices move twice.
                    published += _relay(second).published
                    await second_run.__aexit__(None, None, None)
                    second_run = running(kafka_settings, relay_only)
                    second = await second_run.__aenter__()
                await asyncio.gather(*(one(n) for n in range(start, start + 10)))
        db: Database = api.state.database
        try:
            await wait_until(lambda: _published_all(db), within=60, what="the outbox to drain")
            published += _relay(first).published + _relay(second).published
        finally:
            await second_run.__aexit__(None, None, None)
        outbox = await db.pool.fetchval("SELECT count(*) FROM outbox")
    assert outbox == published == 2 * reports
    ids = await _event_ids_on_the_wire(kafka_settings, outbox)
    assert len(ids) == len(set(ids)) == outbox, "an event was published twice"


def _relay(app: Starlette) -> OutboxRelay:
    relay = app.state.sync.relay
    assert isinstance(relay, OutboxRelay)
    return relay


async def _published_all(db: Database) -> bool:
    return await _unpublished(db) == 0


async def _event_ids_on_the_wire(settings: Settings, expected: int) -> list[str]:
    """Every record of the events topic; waits a moment past ``expected`` for extras."""
    assert settings.kafka_bootstrap_servers is not None
    bus = KafkaBus(settings.kafka_bootstrap_servers, Topics(settings.kafka_topic_prefix, 3))
    await bus.start()
    try:
        consumer = await bus.consumer(bus.topics.events, None, from_start=True)
        ids: list[str] = []
        try:
            idle = 0
            while idle < 3:
                messages = await consumer.poll(1, 1000)
                idle = 0 if messages else idle + 1
                ids += [dict(m.headers)["ce_id"].decode() for m in messages]
                assert len(ids) <= expected * 2
        finally:
            await consumer.stop()
    finally:
        await bus.stop()
    return ids


async def test_a_relay_worker_relays_and_serves_no_http(
    kafka_settings: Settings, database_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SP4N_", "DATABASE_URL"))}
    env |= {
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "SP4N_KAFKA_TOPIC_PREFIX": kafka_settings.kafka_topic_prefix,
        "SP4N_KAFKA_PARTITIONS": "3",
        "SP4N_PORT": str(port),
        "SP4N_KEY_DIR": str(tmp_path / "keys"),
        "SP4N_DATA_DIR": str(tmp_path / "data"),
    }
    log = tmp_path / "worker.log"
    process = _worker(env, log, "--role", "relay")
    try:
        async with running(kafka_settings, frozenset({Role.API})) as api:
            token = await token_for(api, "palembang-app", "16.71", ["node:16.71:write"])
            async with client(api, token) as gql:
                for n in range(5):
                    await gql.data(SUBMIT, key=f"worker-key-{n}")
            db: Database = api.state.database

            async def relayed() -> bool:
                assert process.poll() is None, log.read_text()
                return await _published_all(db)

            await wait_until(relayed, within=60, what="the relay worker to publish")
        async with httpx.AsyncClient() as http:
            with pytest.raises(httpx.ConnectError):
                await http.get(f"http://127.0.0.1:{port}/healthz")
        assert "roles: relay (no HTTP)" in log.read_text()
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _worker(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    """``sp4n-hub worker ARGS`` in a process of its own, its output in ``log``."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "worker", *args],
            env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
        )  # fmt: skip


def test_a_worker_names_what_it_runs() -> None:
    base = Settings(sync=SyncMode.KAFKA, kafka_bootstrap_servers="127.0.0.1:9092")
    assert worker_settings(base, [], None).roles == WORKER_ROLES
    chosen = worker_settings(base, ["relay", "pull"], "16.71,lapor")
    assert chosen.roles == {Role.RELAY, Role.PULL}
    assert chosen.worker_nodes == frozenset({"16.71", "lapor"})
    with pytest.raises(ConfigError, match=r"unknown: 99\.99"):
        worker_settings(base, ["sinks"], "16.71,99.99")
    # The in-process bus cannot carry events between processes: one process only.
    with pytest.raises(ConfigError, match="serve --all"):
        replace(Settings(sync=SyncMode.MEMORY), roles=frozenset({Role.API}))
    assert Settings(sync=SyncMode.MEMORY).roles == ALL_ROLES


async def test_a_sinks_worker_serves_health_readiness_and_the_metrics_of_its_sinks(
    kafka_settings: Settings, sandbox: Sandbox, tmp_path: Path
) -> None:
    """``worker --role sinks --metrics-port P``, a real process serving two sandbox nodes
    through their connectors: its probes answer on P, and its /metrics counts what its
    sinks applied, which the API replicas cannot."""
    assert kafka_settings.database_url is not None
    assert kafka_settings.kafka_bootstrap_servers is not None
    port = free_port()
    env = hub_env(
        DATABASE_URL=kafka_settings.database_url.value,
        KAFKA_BOOTSTRAP_SERVERS=kafka_settings.kafka_bootstrap_servers,
        SP4N_KAFKA_TOPIC_PREFIX=kafka_settings.kafka_topic_prefix,
        SP4N_KAFKA_PARTITIONS="3",
        SP4N_CONNECTORS="1",
        SP4N_KEY_DIR=str(tmp_path / "keys"),
        SP4N_DATA_DIR=str(tmp_path / "data"),
        **sandbox.env(),
    )
    args = ["worker", "--role", "sinks", "--nodes", "16.71,lapor", "--metrics-port", str(port)]
    worker = HubProcess("sinks worker", args, env, port, tmp_path / "worker.log")
    worker.start()
    try:
        await worker.ready()
        async with httpx.AsyncClient(base_url=worker.url) as http:
            assert (await http.get("/healthz")).text == "ok"
            ready = (await http.get("/readyz")).json()
            assert ready == {"ready": True, "database": "ok", "broker": "ok"}
            # Probes and metrics only: the API is not served here.
            assert (await http.post("/graphql", json={"query": "{__typename}"})).status_code == 404
            async with contextlib.AsyncExitStack() as stack:
                api = await stack.enter_async_context(
                    running(kafka_settings, frozenset({Role.API, Role.RELAY}))
                )
                token = await token_for(api, "palembang-app", "16.71", ["node:16.71:write"])
                async with client(api, token) as gql:
                    await gql.data(SUBMIT, key="metrics-worker-1")

                async def applied() -> bool:
                    assert worker.running, worker.tail()
                    samples = _samples((await http.get("/metrics")).text)
                    return samples.get(("sp4n_sink_applied_total", "lapor"), 0) >= 1

                await wait_until(applied, within=60, what="the worker's lapor sink to apply it")
            samples = _samples((await http.get("/metrics")).text)
        # Its own sinks only; every node's circuit (its connectors); the backlogs as
        # every process reads them from PostgreSQL.
        assert {n for name, n in samples if name == "sp4n_sink_lag"} == {"16.71", "lapor"}
        assert samples[("sp4n_node_circuit_open", "lapor")] == 0
        assert samples[("sp4n_database_up", "")] == 1
        assert ("sp4n_outbox_backlog", "") in samples
        assert "roles: sinks\n" in worker.text()
        assert await worker.stop() == 0, worker.tail()
    finally:
        await worker.stop()


def _samples(text: str) -> dict[tuple[str, str], float]:
    """(metric, its node label or "") -> value, from a Prometheus exposition."""
    return {
        (s.name, s.labels.get("node", "")): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
