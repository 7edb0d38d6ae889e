"""``sp4n-hub demo`` from nothing: embedded PostgreSQL, demo data, GraphQL; Ctrl-C stops all."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from infra.postgres import free_port
from tests.conftest import ROOT

QUERY = """{ reports(first: 1) { totalCount }
             SUBMITTED: reports(filter: {state: SUBMITTED}, first: 1) { totalCount }
             ARCHIVED: reports(filter: {state: ARCHIVED}, first: 1) { totalCount } }"""


@pytest.fixture
def data_dir() -> Iterator[Path]:
    path = ROOT / ".sp4n" / f"demo-test-{os.getpid()}"
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _run_demo(data_dir: Path, port: int) -> tuple[dict[str, int], str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS")
    }
    env |= {"SP4N_DATA_DIR": str(data_dir), "SP4N_PORT": str(port)}
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
                response = httpx.post(
                    f"http://127.0.0.1:{port}/graphql", json={"query": QUERY}, timeout=5
                )
                break
            except httpx.TransportError:
                time.sleep(0.5)
        body = response.json()
        counts = {k: v["totalCount"] for k, v in body["data"].items()}
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    assert process.returncode in (0, 130), output
    return counts, output


def test_demo_starts_from_nothing_and_reuses_its_data(data_dir: Path) -> None:
    first, output = _run_demo(data_dir, free_port())
    assert first["reports"] >= 5000
    assert first["SUBMITTED"] > 0
    assert first["ARCHIVED"] > 0
    assert "http://127.0.0.1:" in output
    assert "/graphql" in output
    pgdata = data_dir / "postgres" / "pgdata"
    # Ctrl-C stopped PostgreSQL too.
    assert not (pgdata / "postmaster.pid").exists()

    second, output = _run_demo(data_dir, free_port())
    assert second == first
    assert "reusing the demo data" in output
