"""PostgreSQL stopped and started under a stream of writes: the hub rides it out.

The hub runs as its own process (``serve``'s app, each node's sink a recording double) on a
PostgreSQL of this test's own, which the test stops and starts, and the session's
Kafka broker. Clients keep submitting reports and retry what was refused, as a
regency's app would. What must hold: the hub process keeps running; during the
outage requests answer 503 ``UNAVAILABLE`` with ``Retry-After`` (never a bare
500 or ``INTERNAL``) and ``/readyz`` is false; afterwards it is true again, every
acknowledged change is in the index once, the outbox drains within 30 s, and
every event reaches every node involved in it.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import pytest

from hub.security.clients import ClientStore
from hub.security.keys import KeyRing
from hub.security.tokens import Tokens, TokenSettings
from hub.settings import AuthSettings
from hub.store.database import Database
from infra.postgres import EmbeddedPostgres, free_port
from schema.events import parse_event
from tests.fixtures.postgres import ROOT

pytestmark = pytest.mark.timeout(600)

SUBMIT = """mutation($key: String!) {
  submitReport(idempotencyKey: $key, input: {
    kind: COMPLAINT, complaintSubKind: NON_SUPERVISORY, regionCode: "16.71", topicId: 301,
    channel: MOBILE_APP, title: "Lampu jalan padam di Jalan Sudirman",
    content: "Sudah seminggu lampu jalan padam di depan sekolah."
  }) { id version }
}"""
WRITERS = 6
DOWN_SECONDS = 8


@dataclass
class Observed:
    """What the clients saw, answer by answer."""

    acknowledged: dict[str, str] = field(default_factory=dict)  # idempotency key -> report
    statuses: Counter[str] = field(default_factory=Counter)
    unavailable_without_retry_after: int = 0
    transport_errors: int = 0
    readiness: list[tuple[float, bool]] = field(default_factory=list)


@pytest.fixture
async def hub_process(
    own_postgres: EmbeddedPostgres, kafka_bootstrap: str, tmp_path: Path
) -> AsyncIterator[tuple[subprocess.Popen[bytes], int, str, Path]]:
    admin = await asyncpg.connect(own_postgres.url())
    try:
        await admin.execute("CREATE DATABASE sp4n_restart")
    finally:
        await admin.close()
    url = own_postgres.url("sp4n_restart")
    port = free_port()
    log = tmp_path / "hub.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SP4N_", "DATABASE_URL"))}
    env |= {
        "DATABASE_URL": url,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "SP4N_KAFKA_TOPIC_PREFIX": f"restart-{uuid.uuid4().hex[:8]}.",
        "SP4N_PORT": str(port),
        "SP4N_KEY_DIR": str(tmp_path / "keys"),
        "SP4N_DATA_DIR": str(tmp_path / "data"),
        "SP4N_RATE_LIMIT": "100000",
    }
    process = _serve(env, log)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            deadline = time.monotonic() + 120
            while True:
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "the hub was not ready within 120 s"
                try:
                    if (await http.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.3)
        yield process, port, url, log
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _serve(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """The hub served in a process of its own, its output in ``log``: ``sp4n-hub serve``
    but with a recording sink per node (``tests.recording_hub``), there being no node
    systems here to serve through connectors."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.recording_hub"], env=env, stdout=out, stderr=out, cwd=ROOT
        )


async def _token(url: str, key_dir: Path) -> str:
    """A regency app's client, registered in the index, and a token for it."""
    client_id, node, scopes = "restart-test-app", "16.71", ["node:16.71:write"]
    db = Database(url, min_size=1, max_size=1)
    await db.open()
    try:
        await ClientStore(db).add(client_id, node, scopes)
    finally:
        await db.close()
    auth = AuthSettings()
    tokens = Tokens(
        KeyRing.load(key_dir, create=False),
        TokenSettings(auth.issuer, auth.audience, auth.token_lifetime_seconds),
    )
    return tokens.issue(client_id, node, frozenset(scopes))


async def _writer(
    http: httpx.AsyncClient, token: str, name: str, stop: asyncio.Event, seen: Observed
) -> None:
    """Submits reports one after another; each is retried until acknowledged."""
    headers = {"authorization": f"Bearer {token}"}
    n = 0
    while not stop.is_set():
        n += 1
        key = f"restart-{name}-{n}"
        while True:
            try:
                response = await http.post(
                    "/graphql",
                    json={"query": SUBMIT, "variables": {"key": key}},
                    headers=headers,
                    timeout=10,
                )
            except httpx.TransportError:
                seen.transport_errors += 1
                await asyncio.sleep(0.2)
                continue
            try:
                body = response.json()
            except ValueError:  # not even JSON: a bare error page
                body = {"errors": [{"extensions": {"code": "not JSON"}}]}
            codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or ()]
            seen.statuses[f"{response.status_code} {','.join(map(str, codes)) or 'ok'}"] += 1
            if response.status_code == 200 and not codes:
                seen.acknowledged[key] = body["data"]["submitReport"]["id"]
                break
            if response.status_code == 503 and "retry-after" not in response.headers:
                seen.unavailable_without_retry_after += 1
            await asyncio.sleep(0.2)


async def _watch_readiness(http: httpx.AsyncClient, stop: asyncio.Event, seen: Observed) -> None:
    started = time.monotonic()
    while not stop.is_set():
        try:
            response = await http.get("/readyz", timeout=5)
            seen.readiness.append((time.monotonic() - started, response.status_code == 200))
        except httpx.TransportError:
            seen.readiness.append((time.monotonic() - started, False))
        await asyncio.sleep(0.25)


async def _backlog(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        rows: int = await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        return rows
    finally:
        await conn.close()


async def _undelivered(url: str) -> list[tuple[str, str]]:
    """(node, event) pairs the routing owes a node and its sink has not settled yet."""
    conn = await asyncpg.connect(url)
    try:
        settled = {
            (r["node_code"], str(r["event_id"]))
            for r in await conn.fetch("SELECT node_code, event_id FROM sink_inbox")
        }
        owed = []
        for row in await conn.fetch("SELECT event_id, data FROM outbox"):
            event = parse_event(str(row["event_id"]), json.loads(row["data"]))
            for node in event.involved_nodes:
                if (node, event.event_id) not in settled:
                    owed.append((node, event.event_id))
        return owed
    finally:
        await conn.close()


@dataclass
class Timeline:
    acknowledged_before: int
    until_restart: dict[str, int]
    back_at: float
    ready_after: float


async def _outage(server: EmbeddedPostgres, seen: Observed) -> Timeline:
    """Writes for 3 s, PostgreSQL down for DOWN_SECONDS, up again, 3 s more of writes."""
    await asyncio.sleep(3)
    before = len(seen.acknowledged)
    await asyncio.to_thread(server.stop)
    await asyncio.sleep(DOWN_SECONDS)
    until_restart = dict(seen.statuses)
    await asyncio.to_thread(server.start)
    back_at = time.monotonic()
    while not (seen.readiness and seen.readiness[-1][1]):
        assert time.monotonic() - back_at < 30, "/readyz stayed false after the restart"
        await asyncio.sleep(0.1)
    ready_after = time.monotonic() - back_at
    await asyncio.sleep(3)
    return Timeline(before, until_restart, back_at, ready_after)


async def test_a_postgresql_restart_under_writes_loses_nothing_and_the_hub_keeps_running(
    own_postgres: EmbeddedPostgres,
    hub_process: tuple[subprocess.Popen[bytes], int, str, Path],
    tmp_path: Path,
) -> None:
    process, port, url, log = hub_process
    token = await _token(url, tmp_path / "keys")
    seen = Observed()
    stop_writing, stop_watching = asyncio.Event(), asyncio.Event()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        watcher = asyncio.create_task(_watch_readiness(http, stop_watching, seen))
        writers = [
            asyncio.create_task(_writer(http, token, f"w{i}", stop_writing, seen))
            for i in range(WRITERS)
        ]
        try:
            timeline = await _outage(own_postgres, seen)
            stop_writing.set()
            await asyncio.wait_for(asyncio.gather(*writers), 60)
        finally:
            stop_watching.set()
            for task in [*writers, watcher]:
                task.cancel()
            await asyncio.gather(*writers, watcher, return_exceptions=True)

    assert process.poll() is None, "the hub exited:\n" + log.read_text()[-3000:]

    # During the outage: coded, retryable refusals, nothing masked as an internal fault.
    refusals = {k: v for k, v in seen.statuses.items() if not k.endswith(" ok")}
    assert any(k.startswith("503 UNAVAILABLE") for k in refusals), seen.statuses
    assert not [k for k in refusals if k.startswith("500") or "INTERNAL" in k], seen.statuses
    assert set(refusals) <= {"503 UNAVAILABLE"}, seen.statuses
    assert seen.unavailable_without_retry_after == 0
    states = [ready for _, ready in seen.readiness]
    assert False in states, "/readyz never said the database was gone"
    first_false = states.index(False)
    assert all(states[:first_false]), "/readyz was false before the outage"
    assert states[-1], "/readyz is not true again"

    # Every acknowledged change is in the index once; nothing half-written beside them.
    conn = await asyncpg.connect(url)
    try:
        reports = {str(r["id"]) for r in await conn.fetch("SELECT id FROM reports")}
    finally:
        await conn.close()
    acknowledged = set(seen.acknowledged.values())
    assert len(acknowledged) == len(seen.acknowledged), "one report for two keys"
    assert reports == acknowledged

    # The outbox drains and every node involved hears of every change, within 30 s.
    deadline = time.monotonic() + 30
    while True:
        backlog, owed = await _backlog(url), await _undelivered(url)
        if not backlog and not owed:
            break
        assert time.monotonic() < deadline, f"after 30 s: backlog {backlog}, owed {owed[:5]}"
        await asyncio.sleep(0.5)
    drained_after = time.monotonic() - timeline.back_at

    print(
        f"\nPostgreSQL down {DOWN_SECONDS} s under {WRITERS} writers: "
        f"{len(seen.acknowledged)} reports acknowledged "
        f"({timeline.acknowledged_before} before the outage), "
        f"{len(reports)} in the index; answers {dict(seen.statuses)}; "
        f"{seen.transport_errors} transport errors; until the restart {timeline.until_restart}; "
        f"/readyz true {timeline.ready_after:.1f} s after the restart; outbox drained and every "
        f"involved node settled {drained_after:.1f} s after it; the hub kept running"
    )
