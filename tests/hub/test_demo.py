"""``sp4n-hub demo`` from nothing: embedded PostgreSQL, demo data, the 19 sandbox nodes
served through their connectors, GraphQL; Ctrl-C stops all."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect
from websockets.typing import Subprotocol

from connectors.sandbox.sandbox import LAYOUT
from infra.postgres import free_port
from tests.fixtures.postgres import ROOT

QUERY = """{ reports(first: 1) { totalCount }
             SUBMITTED: reports(filter: {state: SUBMITTED}, first: 1) { totalCount }
             ARCHIVED: reports(filter: {state: ARCHIVED}, first: 1) { totalCount } }"""
NODES = "{ nodes { code health { healthy } circuit lastPulledAt } }"
EVENTS = "subscription { reportEvents { reportId version verb state actorNode actorRole } }"
HISTORY = """query($id: ID!) { report(id: $id) {
  state version history { version verb toState actorNode actorRole at } } }"""
PULLED = sorted(n for n, p in LAYOUT.items() if p != "push")


@pytest.fixture
def data_dir() -> Iterator[Path]:
    path = ROOT / ".sp4n" / f"demo-test-{os.getpid()}"
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _graphql(port: int, query: str, **variables: Any) -> dict[str, Any]:
    response = httpx.post(
        f"http://127.0.0.1:{port}/graphql",
        json={"query": query, "variables": variables},
        timeout=10,
    )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def _run_demo(
    data_dir: Path, port: int, while_up: Callable[[int], None]
) -> tuple[dict[str, int], str, float]:
    """Starts the demo, runs ``while_up`` against it, stops it with Ctrl-C; returns the
    report counts, the output, and how long the demo took to answer."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS")
    }
    env |= {"SP4N_DATA_DIR": str(data_dir), "SP4N_PORT": str(port)}
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "demo"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < deadline, "the demo did not answer within 120 s"
            try:
                body = _graphql(port, QUERY)
                break
            except httpx.TransportError:
                time.sleep(0.5)
        answered = time.monotonic() - started
        counts = {k: v["totalCount"] for k, v in body.items()}
        while_up(port)
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    assert process.returncode in (0, 130), output
    return counts, output, answered


def _wait_for_live_nodes(port: int, since: datetime) -> None:
    """Every node's connector healthy, and every pulled node pulled since ``since``."""
    deadline = time.monotonic() + 90
    while True:
        nodes = {n["code"]: n for n in _graphql(port, NODES)["nodes"]}
        pulled = {
            code
            for code, n in nodes.items()
            if n["lastPulledAt"] and datetime.fromisoformat(n["lastPulledAt"]) >= since
        }
        healthy = {
            code
            for code, n in nodes.items()
            if n["health"] and n["health"]["healthy"] and n["circuit"] == "CLOSED"
        }
        if len(nodes) == 19 and healthy == set(nodes) and pulled == set(PULLED):
            return
        assert time.monotonic() < deadline, f"nodes not all live and pulled: {nodes}"
        time.sleep(1)


def _a_sandbox_moves_a_report(port: int) -> None:
    """Waits for a status change a sandbox node's staff made after the hub had already
    pulled the report: a node's SYSTEM moving a report it had moved before, seconds
    later (an initial pull applies a report's whole path at once)."""
    with connect(
        f"ws://127.0.0.1:{port}/graphql",
        subprotocols=[Subprotocol("graphql-transport-ws")],
        open_timeout=10,
    ) as ws:
        ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
        ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": EVENTS}}))
        deadline = time.monotonic() + 120
        while True:
            left = deadline - time.monotonic()
            assert left > 0, "no sandbox node moved a report within 120 s"
            message = json.loads(ws.recv(timeout=left))
            assert message["type"] == "next", message
            event = message["payload"]["data"]["reportEvents"]
            if event["actorRole"] != "NODE_SYSTEM" or event["verb"] == "SUBMIT":
                continue
            report = _graphql(port, HISTORY, id=event["reportId"])["report"]
            node, version = event["actorNode"], event["version"]
            by_node = [
                h
                for h in report["history"]
                if h["actorNode"] == node and h["actorRole"] == "NODE_SYSTEM"
            ]
            this = next(h for h in by_node if h["version"] == version)
            before = datetime.fromisoformat(this["at"]) - timedelta(seconds=2)
            earlier = [
                h
                for h in by_node
                if h["version"] < version and datetime.fromisoformat(h["at"]) < before
            ]
            if earlier:
                assert this["toState"] == event["state"]
                assert report["version"] >= event["version"]
                return


def _demo_passwords(output: str) -> dict[str, str]:
    """The people's accounts the banner lists under its login line: login → password."""
    assert "people log in at http://127.0.0.1:" in output
    listed = output.split("people log in at", 1)[1].splitlines()[1:4]
    rows = [line.split() for line in listed]
    return {row[-2]: row[-1] for row in rows}


def _live(port: int) -> None:
    since = datetime.now().astimezone()
    _wait_for_live_nodes(port, since)
    _a_sandbox_moves_a_report(port)


def test_demo_starts_from_nothing_serves_live_nodes_and_reuses_its_data(data_dir: Path) -> None:
    first, output, _ = _run_demo(data_dir, free_port(), _live)
    assert first["reports"] >= 5000
    assert first["SUBMITTED"] > 0
    assert first["ARCHIVED"] > 0
    assert "http://127.0.0.1:" in output
    assert "/graphql" in output
    assert "sandboxes: 19 node systems running" in output
    first_passwords = _demo_passwords(output)
    assert sorted(first_passwords) == ["diskominfo", "kemenpan", "koordinator-plg"]
    pgdata = data_dir / "postgres" / "pgdata"
    # Ctrl-C stopped the sandbox and PostgreSQL too.
    assert "stopping the sandbox nodes" in output
    assert not (pgdata / "postmaster.pid").exists()
    assert "Traceback" not in output

    def pulled_again(port: int) -> None:
        _wait_for_live_nodes(port, datetime.now().astimezone())

    second, output, answered = _run_demo(data_dir, free_port(), pulled_again)
    assert "reusing the demo data" in output
    # The accounts were kept and given new passwords.
    second_passwords = _demo_passwords(output)
    assert second_passwords.keys() == first_passwords.keys()
    assert all(second_passwords[k] != first_passwords[k] for k in first_passwords)
    # The 6,000 seeded reports were kept, with what the nodes added meanwhile.
    assert second["reports"] >= first["reports"]
    assert answered < 60, f"the second start took {answered:.0f} s"
    assert "Traceback" not in output
