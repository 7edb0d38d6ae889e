"""What every benchmark needs: uvicorn servers, machine facts and the RESULTS.md writer
(the wrk load generator is ``bench.wrk``)."""

from __future__ import annotations

import os
import platform
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path
from types import TracebackType

import httpx

ROOT = Path(__file__).resolve().parent.parent
WORK_DIR = ROOT / ".sp4n" / "bench"
RESULTS = ROOT / "bench" / "RESULTS.md"


def say(message: str) -> None:
    """Progress for the person watching: stderr, so stdout stays clean."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def uvicorn_options() -> list[str]:
    """The options every server gets, so the three differ only in their app.

    uvloop and httptools are used only when installed, and then for all alike.
    """
    loop = "uvloop" if find_spec("uvloop") else "asyncio"
    http = "httptools" if find_spec("httptools") else "h11"
    return ["--loop", loop, "--http", http, "--no-access-log", "--log-level", "warning"]


class Server:
    """One uvicorn process (one worker) serving ``factory`` on a loopback port."""

    def __init__(self, name: str, factory: str, env: Mapping[str, str]) -> None:
        self.name = name
        self.factory = factory
        self.env = dict(env)
        self.port = free_port()
        self.log = WORK_DIR / f"{name}.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    def start(self) -> None:
        WORK_DIR.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "uvicorn", "--factory", self.factory]
        command += ["--host", "127.0.0.1", "--port", str(self.port), *uvicorn_options()]
        with self.log.open("wb") as log:
            self._process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )

    def wait_ready(self, body: bytes, timeout: float = 60.0) -> None:
        """Waits until a POST of ``body`` answers 200; fails with the server's log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                break
            try:
                response = httpx.post(self.url, content=body, headers=_JSON, timeout=5)
                if response.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not become ready; its log:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        if not self.log.exists():
            return "(no log)"
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)  # uvicorn shuts down gracefully on SIGTERM
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


_JSON = {"Content-Type": "application/json"}


def post(url: str, body: bytes) -> bytes:
    """One request outside the measurement, e.g. to compare the answers."""
    response = httpx.post(url, content=body, headers=_JSON, timeout=30)
    response.raise_for_status()
    return response.content


def machine_facts(
    packages: Sequence[str] = ("uvicorn", "starlette", "strawberry-graphql"),
) -> dict[str, str]:
    """What a reader needs to judge the numbers: the box and the software on it.

    ``packages`` names the installed distributions whose versions matter to the benchmark.
    """
    cpu = platform.processor() or "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.MULTILINE)
        cpu = found[1] if found else cpu
    versions = ", ".join(f"{name} {_version(name)}" for name in packages)
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "packages": versions,
        "uvicorn options": " ".join(uvicorn_options()),
    }


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (1 min), {five:.2f} (5 min)"


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def write_section(name: str, text: str, path: Path = RESULTS) -> None:
    """Replaces the section ``name`` of RESULTS.md (or adds it), keeping the others."""
    start, end = f"<!-- {name}: start -->", f"<!-- {name}: end -->"
    block = f"{start}\n{text.strip()}\n{end}"
    current = path.read_text() if path.exists() else "# Benchmark results\n"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(current):
        updated = pattern.sub(lambda _: block, current)
    else:
        updated = current.rstrip() + "\n\n" + block + "\n"
    path.write_text(updated)
