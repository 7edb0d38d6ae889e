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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
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


# -- CPU: the one meter every benchmark reads (Linux /proc; 0 where it is absent) --------

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (index 0 is the state)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def process_cpu_seconds(pid: int, *, children: bool = False) -> float:
    """User and system CPU seconds of process ``pid`` (with ``children``: plus what its
    exited, waited-for children used); 0 once it is gone."""
    fields = _proc_stat(pid)
    if fields is None:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / _TICK


def parent_of(pid: int) -> int | None:
    fields = _proc_stat(pid)
    return int(fields[1]) if fields is not None else None


def postgres_cpu_seconds(postmaster: int | None) -> float:
    """CPU seconds of a local PostgreSQL server: the postmaster with its ended backends,
    plus every live backend; 0 when the server's main process is unknown."""
    if postmaster is None:
        return 0.0
    total = process_cpu_seconds(postmaster, children=True)
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and parent_of(int(entry.name)) == postmaster:
            total += process_cpu_seconds(int(entry.name))
    return total


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent on anything but idle and I/O wait since boot."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            values = [int(v) for v in stat.readline().split()[1:]]
    except OSError:
        return 0.0
    # user nice system idle iowait irq softirq steal; guest time is inside user already
    return (sum(values[:8]) - values[3] - values[4]) / _TICK


@dataclass(frozen=True, slots=True)
class CpuSnapshot:
    """Cumulative CPU seconds of each part at monotonic time ``at``."""

    at: float
    hub: float
    postgres: float
    kafka: float
    sandbox: float
    machine: float


@dataclass(frozen=True, slots=True)
class CpuUse:
    """Cores kept busy, on average, over one phase (1.0 = one core)."""

    hub: float
    postgres: float
    kafka: float
    sandbox: float
    other: float
    """Everything else the machine did meanwhile (other tenants included)."""
    wall: float
    """Seconds the phase lasted."""

    @property
    def machine(self) -> float:
        return self.hub + self.postgres + self.kafka + self.sandbox + self.other

    def seconds(self, cores: float) -> float:
        """CPU seconds a part's ``cores`` amount to over the phase."""
        return cores * self.wall

    def per_item(self, count: int) -> tuple[float, float, float]:
        """CPU milliseconds per item (change or message): this process, PostgreSQL, Kafka."""
        scale = self.wall * 1000 / count
        return self.hub * scale, self.postgres * scale, self.kafka * scale

    def sandbox_per_item(self, count: int) -> float:
        """CPU milliseconds per item of the sandbox node systems."""
        return self.sandbox * self.wall * 1000 / count

    def text(self) -> str:
        sandbox = f"sandbox {self.sandbox:.2f}, " if self.sandbox else ""
        return (
            f"this Python process {self.hub:.2f}, PostgreSQL {self.postgres:.2f}, "
            f"Kafka JVM {self.kafka:.2f}, {sandbox}anything else {self.other:.2f}"
        )


@dataclass(slots=True)
class CpuMeter:
    """CPU time of the parts of a run: this process (the hub), the local PostgreSQL
    server (``postmaster``), the Kafka JVM (``broker``) and, when given, the sandbox
    node systems (``sandbox``: a reading of their CPU seconds); a part not on this
    machine reads 0."""

    postmaster: int | None
    broker: int | None = None
    sandbox: Callable[[], float] | None = None

    def snapshot(self) -> CpuSnapshot:
        times = os.times()
        return CpuSnapshot(
            time.monotonic(),
            times.user + times.system,
            postgres_cpu_seconds(self.postmaster),
            process_cpu_seconds(self.broker) if self.broker is not None else 0.0,
            self.sandbox() if self.sandbox is not None else 0.0,
            machine_busy_seconds(),
        )

    def since(self, before: CpuSnapshot) -> CpuUse:
        return self.use(before, self.snapshot())

    @staticmethod
    def use(before: CpuSnapshot, after: CpuSnapshot) -> CpuUse:
        wall = max(after.at - before.at, 1e-9)
        hub = (after.hub - before.hub) / wall
        postgres = (after.postgres - before.postgres) / wall
        kafka = (after.kafka - before.kafka) / wall
        sandbox = (after.sandbox - before.sandbox) / wall
        other = (after.machine - before.machine) / wall - hub - postgres - kafka - sandbox
        return CpuUse(hub, postgres, kafka, sandbox, max(other, 0.0), wall)
