"""Hub processes as an operator runs them: ``sp4n-hub serve`` and ``sp4n-hub worker``
subprocesses of this interpreter, each logging to its own file, started, probed over
HTTP, stopped with SIGTERM or killed with SIGKILL."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from hub.security.clients import ClientStore
from hub.store.database import Database
from tests.fixtures.postgres import ROOT


def hub_env(**settings: str) -> dict[str, str]:
    """This process's environment without any hub setting, plus ``settings``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SP4N_", "DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"))
    }
    return env | settings


async def admin_token(database_url: str, api_url: str, client_id: str) -> str:
    """A province admin's bearer token: the client registered in the database, its
    token asked of the running hub at ``api_url`` as a client would."""
    db = Database(database_url, min_size=1, max_size=1)
    await db.open()
    try:
        secret = await ClientStore(db).add(client_id, "16", ["province:admin"])
    finally:
        await db.close()
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{api_url}/oauth/token",
            data={"grant_type": "client_credentials", "client_id": client_id,
                  "client_secret": secret},
        )  # fmt: skip
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


class HubProcess:
    """``sp4n-hub ARGS`` in a subprocess; ``port`` is where it answers HTTP (``serve``'s
    SP4N_PORT or a worker's --metrics-port)."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], port: int, log: Path):
        self.name = name
        self.args = args
        self.env = env
        self.port = port
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "hub.cli", *self.args],
                env=self.env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
            )  # fmt: skip

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    async def ready(self, within: float = 90) -> None:
        """Waits until its /readyz answers 200 (the process must stay alive meanwhile)."""
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(timeout=3) as http:
            while True:
                assert self.running, f"{self.name} exited\n{self.tail()}"
                try:
                    if (await http.get(f"{self.url}/readyz")).is_success:
                        return
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, f"{self.name} not ready\n{self.tail()}"
                await asyncio.sleep(0.2)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    async def stop(self, grace: float = 30) -> int | None:
        """SIGTERM, waited for in a thread (this loop may serve what the process calls)."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(self.process.wait, grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                await asyncio.to_thread(self.process.wait, 10)
        return self.process.returncode

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.text().splitlines()[-lines:])
