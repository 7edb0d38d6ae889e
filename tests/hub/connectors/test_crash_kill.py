"""SIGKILL the hub at random moments while it writes back to the sandbox nodes; after it
comes back no node holds a duplicate report or a doubled follow-up or state entry, and
every committed change reached every node involved in it.

The hub is a real ``sp4n-hub serve --all`` subprocess on the real broker, serving all 19
sandbox nodes through their connectors. The sandbox runs here, in the test process,
so it outlives each killed hub. Its systems honour no idempotency keys (the database
nodes' keys are their own constraints): the hub's write-back intents alone must keep a
crash from doubling a write-back. The figures are printed (``pytest -s``).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from connectors.sandbox.sandbox import Sandbox
from infra.postgres import free_port
from schema.events import parse_event
from schema.report import ActorRole
from tests.fixtures.postgres import ROOT
from tests.hub.operations import COMPLETE, DISPOSE, FOLLOW_UP, SUBMIT, VERIFY
from tests.hub.processes import admin_token

SEEDS = (1708, 2024, 31)
REPORTS = 36
"""Each gets six changes (submit, verify, dispose, two follow-ups, complete)."""
IN_FLIGHT = 8
KILLS = 1
# One region per kind that can create, besides the province (16, GraphQL) and
# LAPOR!, which hear of every report the province files.
REGIONS = ("16.71", "16.01", "16.05", "16.07", "16.12")
RECONCILED = re.compile(r"reconciled (\d+) in-doubt events with the node: (\d+) already held")


@dataclass
class Figures:
    seed: int
    attempted: int = 0
    committed: int = 0
    write_backs: int = 0
    in_doubt: int = 0
    prevented: int = 0
    kills: int = 0
    recoveries: list[float] = field(default_factory=list)
    """Seconds from each kill until the restarted hub had applied everything committed."""

    def line(self) -> str:
        worst = max(self.recoveries, default=0.0)
        return (
            f"seed {self.seed}: {self.attempted} mutations attempted, {self.committed} "
            f"committed; {self.write_backs} write-backs applied at the nodes; "
            f"{self.kills} SIGKILLs; {self.in_doubt} events in doubt reconciled, "
            f"{self.prevented} duplicates prevented; recovered in "
            f"{', '.join(f'{s:.1f}' for s in self.recoveries)} s (worst {worst:.1f} s)"
        )


class HubProcess:
    """``sp4n-hub serve --all`` in a subprocess, started, killed and started again."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.env = env
        self.port = port
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "hub.cli", "serve", "--all"],
                env=self.env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
            )  # fmt: skip

    async def answering(self, within: float = 60) -> None:
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(timeout=2) as http:
            while True:
                assert self.process is not None
                assert self.process.poll() is None, self.tail()
                try:
                    if (await http.get(f"http://127.0.0.1:{self.port}/readyz")).is_success:
                        return
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, f"the hub did not answer\n{self.tail()}"
                await asyncio.sleep(0.1)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    async def stop(self) -> None:
        # Waited for in a thread: the sandbox on this loop must go on answering the
        # hub while it shuts down.
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(self.process.wait, 30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                await asyncio.to_thread(self.process.wait, 10)

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


@pytest.fixture
async def sandbox(sandbox_database: str, request: pytest.FixtureRequest) -> AsyncIterator[Sandbox]:
    """All 19 nodes, honouring no keys, seeded by the test's seed."""
    async with Sandbox(seed=request.node.callspec.params["seed"], reports_per_node=4,
                       postgres_url=sandbox_database) as running:  # fmt: skip
        for node in running.systems:
            running.honour_keys(node, False)
        yield running


class Driver:
    """The province's admin moving reports through their life cycle over HTTP, retrying
    each mutation under its idempotency key until the (possibly restarted) hub answers."""

    def __init__(self, port: int, token: str, seed: int, figures: Figures) -> None:
        self.url = f"http://127.0.0.1:{port}/graphql"
        self.headers = {"authorization": f"Bearer {token}"}
        self.seed = seed
        self.figures = figures

    async def mutate(self, http: httpx.AsyncClient, query: str, **variables: Any) -> Any:
        while True:
            self.figures.attempted += 1
            try:
                response = await http.post(
                    self.url, json={"query": query, "variables": variables}, headers=self.headers
                )
            except httpx.TransportError:
                await asyncio.sleep(0.2)  # the hub is down: the same key again later
                continue
            if response.status_code != 200:
                await asyncio.sleep(0.2)
                continue
            body = response.json()
            assert "errors" not in body, body
            return next(iter(body["data"].values()))

    async def report(self, http: httpx.AsyncClient, n: int) -> None:
        key = f"crash-{self.seed}-{n}"
        region = REGIONS[n % len(REGIONS)]
        submitted = await self.mutate(
            http, SUBMIT, key=f"{key}-submit",
            input={
                "kind": "COMPLAINT", "complaintSubKind": "NON_SUPERVISORY", "regionCode": region,
                "topicId": 301, "channel": "WEB", "location": f"Jl. Merdeka No. {n}",
                "title": f"Jalan berlubang nomor {n}",
                "content": "Lubang besar di tengah jalan, sudah ada pengendara yang jatuh.",
            },
        )  # fmt: skip
        rid, v = submitted["id"], submitted["version"]
        steps: list[tuple[str, dict[str, Any]]] = [
            (VERIFY, {}),
            (DISPOSE, {"to": "opd-16-pubmtr"}),
            (FOLLOW_UP, {"content": "Tim sudah meninjau lokasi."}),
            (FOLLOW_UP, {"content": "Penambalan dijadwalkan pekan ini."}),
            (COMPLETE, {}),
        ]
        for step, (query, extra) in enumerate(steps):
            moved = await self.mutate(http, query, id=rid, v=v, key=f"{key}-{step}", **extra)
            v = moved["version"]

    async def run(self, reports: int) -> None:
        queue = list(range(reports))

        async def worker() -> None:
            async with httpx.AsyncClient(timeout=10) as http:
                while queue:
                    await self.report(http, queue.pop(0))

        await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))


async def _expected(database_url: str, served: set[str]) -> dict[str, set[str]]:
    """Node -> the event ids it must have applied: each committed change, at every node
    involved in it, but the changes a node's own system made."""
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT event_id, data FROM outbox ORDER BY id")
    finally:
        await conn.close()
    wanted: dict[str, set[str]] = {node: set() for node in served}
    for row in rows:
        event = parse_event(str(row["event_id"]), json.loads(row["data"]))
        for node in set(event.involved_nodes) & served:
            if not (event.actor_node == node and event.actor_role is ActorRole.NODE_SYSTEM):
                wanted[node].add(event.event_id)
    return wanted


async def _missing(sandbox: Sandbox, wanted: dict[str, set[str]]) -> dict[str, int]:
    missing = {}
    for node, events in wanted.items():
        held = {e for ids in (await sandbox.writes(node)).values() for e in ids}
        if events - held:
            missing[node] = len(events - held)
    return missing


async def _duplicates(sandbox: Sandbox) -> list[str]:
    found = []
    for node in sandbox.nodes:
        if node in sandbox.systems or node in sandbox.databases:
            held = (await sandbox.inventory(node)).values()
            made = Counter(h for h, _ in held if h is not None)
            found += [f"{node}: {n} reports for hub report {h}" for h, n in made.items() if n > 1]
        for external, ids in (await sandbox.writes(node)).items():
            found += [
                f"{node}: report {external} holds event {e} {n} times"
                for e, n in Counter(ids).items()
                if n > 1
            ]
    return found


async def _applied(
    sandbox: Sandbox, wanted: dict[str, set[str]], hub: HubProcess, within: float = 90
) -> None:
    """Waits until the sandbox holds every write-back in ``wanted``."""
    deadline = time.monotonic() + within
    while missing := await _missing(sandbox, wanted):
        assert time.monotonic() < deadline, f"write-backs missing {missing}\n{hub.tail()}"
        await asyncio.sleep(0.2)


async def _mid_batch(
    sandbox: Sandbox, database_url: str, hub: HubProcess, writes: int, within: float = 60
) -> None:
    """Waits until ``writes`` more write-backs reached the nodes and a sink is in the
    middle of a batch (its intents noted, its outcomes not recorded yet)."""

    def total() -> int:  # the in-memory systems only: cheap enough to ask every 5 ms
        return sum(len(r.updates) for system in sandbox.systems.values() for r in system)

    conn = await asyncpg.connect(database_url)
    try:
        target, deadline = total() + writes, time.monotonic() + within
        while not (total() >= target and await conn.fetchval("SELECT count(*) FROM sink_intents")):
            assert time.monotonic() < deadline, f"no batch under way\n{hub.tail()}"
            await asyncio.sleep(0.005)
    finally:
        await conn.close()


@pytest.mark.parametrize("seed", SEEDS)
async def test_sigkill_during_write_backs_neither_doubles_nor_loses_one(
    seed: int, sandbox: Sandbox, database_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    rng = random.Random(seed)
    port = free_port()
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS")
    }
    env |= sandbox.env() | {
        "DATABASE_URL": database_url, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "SP4N_KAFKA_TOPIC_PREFIX": f"crash{seed}-{os.getpid()}-{time.time_ns()}.",
        "SP4N_KAFKA_PARTITIONS": "3", "SP4N_CONNECTORS": "1", "SP4N_PORT": str(port),
        "SP4N_KEY_DIR": str(tmp_path / "keys"), "SP4N_RATE_LIMIT": "100000",
    }  # fmt: skip
    served = set(sandbox.nodes)
    hub = HubProcess(env, port, tmp_path / "hub.log")
    figures = Figures(seed)

    async def recovered(wanted: dict[str, set[str]], killed: float) -> None:
        # Everything committed before the kill has reached the nodes, whatever
        # further kills came meanwhile.
        await _applied(sandbox, wanted, hub)
        figures.recoveries.append(time.monotonic() - killed)

    tasks: list[asyncio.Task[None]] = []
    hub.start()
    try:
        await hub.answering()
        driver = Driver(
            port,
            await admin_token(database_url, f"http://127.0.0.1:{port}", "crash-admin"),
            seed,
            figures,
        )
        driving = asyncio.create_task(driver.run(REPORTS))
        tasks.append(driving)
        for _ in range(KILLS):
            # A random moment while the (restarted) hub writes back.
            await _mid_batch(sandbox, database_url, hub, rng.randint(5, 80))
            hub.kill()
            killed = time.monotonic()
            figures.kills += 1
            wanted = await _expected(database_url, served)
            hub.start()
            tasks.append(asyncio.create_task(recovered(wanted, killed)))
            await hub.answering()
        await asyncio.gather(*tasks)
        wanted = await _expected(database_url, served)
        await _applied(sandbox, wanted, hub)
        figures.write_backs = sum(len(events) for events in wanted.values())
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await hub.stop()
    for reconciled, held in RECONCILED.findall(hub.log.read_text(encoding="utf-8")):
        figures.in_doubt += int(reconciled)
        figures.prevented += int(held)
    conn = await asyncpg.connect(database_url)
    try:
        figures.committed = await conn.fetchval(
            "SELECT count(*) FROM report_history WHERE actor_role = 'INSTITUTION_ADMIN'"
        )
    finally:
        await conn.close()
    print(f"\n{figures.line()}")
    assert await _duplicates(sandbox) == []
    assert figures.committed == REPORTS * 6
