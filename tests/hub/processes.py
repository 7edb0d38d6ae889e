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

from tests.fixtures.postgres import ROOT


def hub_env(**settings: str) -> dict[str, str]:
    """This process's environment without any hub setting, plus ``settings``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SP4N_", "DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"))
    }
    return env | settings


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
