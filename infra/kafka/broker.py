"""One real Apache Kafka node on loopback, run as a child JVM."""

from __future__ import annotations

import asyncio
import atexit
import base64
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Self

from infra.kafka.config import (
    HOST,
    Ports,
    Quorum,
    log4j2_properties,
    read_ports,
    server_properties,
)
from infra.kafka.errors import KafkaInfraError
from infra.kafka.jars import fetch_jars
from infra.kafka.probe import cluster_info
from infra.kafka.process import kill_child, stop_child

START_MARKER = "===== sp4n: starting the broker"
# What Kafka's own start script uses; the heap (-Xmx) is set per broker.
JVM_OPTIONS = (
    "-Xms256m",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
)


def find_java() -> str:
    """``$JAVA_HOME/bin/java`` when set, else ``java`` from PATH."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return str(Path(java_home) / "bin" / "java")
    java = shutil.which("java")
    if java is None:
        raise KafkaInfraError(
            "Java is not installed; Kafka 4 needs Java 17 or newer "
            "(Debian: apt-get install openjdk-17-jre-headless)"
        )
    return java


def free_ports(nodes: int = 1) -> list[Ports]:
    """Free loopback ports for ``nodes`` nodes, all different."""
    # Every socket stays bound until every port is known, so they differ.
    with ExitStack() as stack:
        ports = []
        for _ in range(2 * nodes):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind((HOST, 0))
            ports.append(int(sock.getsockname()[1]))
    return [Ports(broker=b, controller=c) for b, c in zip(ports[::2], ports[1::2], strict=True)]


def new_cluster_id() -> str:
    # Kafka's own format (base64url of a random UUID); it avoids a leading '-',
    # which its command line would read as an option.
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):
            return cluster_id


def _excerpt(path: Path) -> str:
    """The first error of the latest run, then its last lines: what a person reads first."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log was written)"
    run = text.rsplit(START_MARKER, 1)[-1].splitlines()
    errors = [i for i, line in enumerate(run) if " ERROR " in line or " FATAL " in line]
    lines = []
    if errors:
        # The line after Kafka's ERROR line usually holds the exception's message.
        lines += ["first error:", *run[errors[0] : errors[0] + 2], "last lines:"]
    lines += run[-15:]
    return "\n".join(lines)


class KafkaBroker:
    """A Kafka node (broker and KRaft controller in one JVM) on 127.0.0.1: a cluster of
    its own, or with ``quorum`` one member of a larger one (``infra.kafka.cluster``).

    Everything lives in ``work_dir``: ``server.properties``, the data in
    ``data/`` and the JVM's output in ``broker.log``. The first start picks free
    ports, writes the config and formats the storage; any later start of the
    same ``work_dir`` (by this object or a new one) keeps those ports and that
    data, so ``stop()`` then ``start()`` restarts the same broker.

    Without ``work_dir`` a temporary folder is used and removed when the
    ``with`` block ends. ``stop()`` alone never removes data.
    """

    def __init__(
        self,
        work_dir: Path | str | None = None,
        *,
        lib_dir: Path | None = None,
        startup_timeout: float = 90.0,
        stop_timeout: float = 30.0,
        log_level: str = "INFO",
        heap: str = "1g",
        node_id: int = 1,
        quorum: Quorum | None = None,
        ports: Ports | None = None,
    ) -> None:
        """``quorum`` and ``ports`` (this node's, among the quorum's voters) go together;
        they are used when the folder is first formatted."""
        self._owns_dir = work_dir is None
        self.work_dir = Path(work_dir or tempfile.mkdtemp(prefix="sp4n-kafka-")).resolve()
        self.lib_dir = lib_dir
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.log_level = log_level
        self.heap = heap
        self.node_id = node_id
        self.quorum = quorum
        self._new_ports = ports
        self._ports: Ports | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    # -- where things are ------------------------------------------------------

    @property
    def config_file(self) -> Path:
        return self.work_dir / "server.properties"

    @property
    def data_dir(self) -> Path:
        return self.work_dir / "data"

    @property
    def log_file(self) -> Path:
        """The broker JVM's stdout and stderr, appended to across restarts."""
        return self.work_dir / "broker.log"

    @property
    def ports(self) -> Ports:
        if self._ports is None:
            if not self._formatted():
                raise KafkaInfraError("the broker has not been started yet: it has no ports")
            self._ports = read_ports(self.config_file)
        return self._ports

    @property
    def bootstrap_servers(self) -> str:
        """``127.0.0.1:<port>``, what Kafka clients take as ``bootstrap_servers``."""
        return f"{HOST}:{self.ports.broker}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.is_running() and self._proc else None

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> str:
        """Starts the broker, waits until it serves metadata, returns the bootstrap servers.

        Fetches the jars first if needed. Raises ``KafkaInfraError`` naming the
        log file if the JVM exits or does not answer within ``startup_timeout``.
        """
        if self.is_running():
            return self.bootstrap_servers
        self.launch()
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self.bootstrap_servers

    def launch(self) -> None:
        """Starts the JVM without waiting for it to serve (the nodes of a new cluster
        only serve once a majority of them runs). Formats the folder on first use."""
        if self.is_running():
            return
        java = find_java()
        lib_dir = fetch_jars(self.lib_dir)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        log4j_file = self.work_dir / "log4j2.properties"
        log4j_file.write_text(log4j2_properties(self.log_level))

        def java_command(jvm_options: Sequence[str], *main_and_args: str) -> list[str]:
            return [
                java,
                *jvm_options,
                f"-Dlog4j2.configurationFile={log4j_file}",
                "-cp",
                f"{lib_dir}/*",
                *main_and_args,
            ]

        if not self._formatted():
            self._format(
                java_command(
                    ["-Xmx256m"],
                    "kafka.tools.StorageTool",
                    "format",
                    # A quorum's voters are in the config; a lone node is its own.
                    *(() if self.quorum else ("--standalone",)),
                    "-t",
                    self.quorum.cluster_id if self.quorum else new_cluster_id(),
                    "-c",
                    str(self.config_file),
                )
            )
        self._ports = read_ports(self.config_file)

        with self.log_file.open("ab") as log:
            stamp = datetime.now(UTC).isoformat(timespec="seconds")
            log.write(f"\n{START_MARKER} at {stamp} =====\n".encode())
            log.flush()
            self._proc = subprocess.Popen(
                java_command(
                    [*JVM_OPTIONS, f"-Xmx{self.heap}"], "kafka.Kafka", str(self.config_file)
                ),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.work_dir,
                # Its own session: a terminal's Ctrl-C or hang-up does not reach
                # the JVM, which is stopped by stop() (or detached on purpose).
                start_new_session=True,
            )
        # A broker left running would outlive the interpreter; stop it on exit.
        atexit.register(self.stop)

    def stop(self) -> None:
        """SIGTERM (a clean shutdown), then SIGKILL after ``stop_timeout``. Idempotent."""
        atexit.unregister(self.stop)
        if self._proc is not None:
            stop_child(self._proc, self.stop_timeout)
            self._proc = None

    def kill(self) -> None:
        """SIGKILL: the node dies at once, as in a crash or power loss. Idempotent."""
        atexit.unregister(self.stop)
        if self._proc is not None:
            kill_child(self._proc)
            self._proc = None

    def restart(self) -> str:
        """Stops and starts the same broker: same ports, same data."""
        self.stop()
        return self.start()

    def detach(self) -> int:
        """Leaves the broker running after this interpreter exits; returns its pid."""
        if self._proc is None or not self.is_running():
            raise KafkaInfraError("the broker is not running")
        atexit.unregister(self.stop)
        pid = self._proc.pid
        self._proc = None
        return pid

    async def start_async(self) -> str:
        """``start()`` in a worker thread, so the event loop keeps running meanwhile."""
        return await asyncio.to_thread(self.start)

    async def stop_async(self) -> None:
        await asyncio.to_thread(self.stop)

    async def kill_async(self) -> None:
        await asyncio.to_thread(self.kill)

    async def restart_async(self) -> str:
        return await asyncio.to_thread(self.restart)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        if self._owns_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)

    # -- internals ---------------------------------------------------------------

    def _formatted(self) -> bool:
        return self.config_file.is_file() and (self.data_dir / "meta.properties").is_file()

    def _format(self, command: list[str]) -> None:
        """First start: new ports, a new config, then ``command`` formats the storage."""
        shutil.rmtree(self.data_dir, ignore_errors=True)
        ports = self._new_ports or free_ports()[0]
        self.config_file.write_text(
            server_properties(ports, self.data_dir, node_id=self.node_id, quorum=self.quorum)
        )
        format_log = self.work_dir / "format.log"
        with format_log.open("wb") as log:
            result = subprocess.run(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.work_dir,
                check=False,
                timeout=120,
            )
        if result.returncode != 0:
            raise KafkaInfraError(
                f"formatting the Kafka storage failed (exit {result.returncode}); "
                f"log: {format_log}\n{_excerpt(format_log)}"
            )

    def wait_ready(self) -> None:
        """Until the node answers a Metadata request listing itself as a broker."""
        if self._proc is None:
            raise KafkaInfraError("the broker has not been launched")
        port = self.ports.broker
        deadline = time.monotonic() + self.startup_timeout
        while True:
            code = self._proc.poll()
            if code is not None:
                raise KafkaInfraError(
                    f"the Kafka broker exited with code {code} while starting; "
                    f"log: {self.log_file}\n{_excerpt(self.log_file)}"
                )
            try:
                info = cluster_info(HOST, port)
                if any(node == self.node_id for node, _, _ in info.brokers):
                    return
            except OSError:
                pass  # not listening yet, or not yet part of its cluster
            if time.monotonic() > deadline:
                raise KafkaInfraError(
                    f"the Kafka broker did not answer on {HOST}:{port} within "
                    f"{self.startup_timeout:.0f} s; log: {self.log_file}\n{_excerpt(self.log_file)}"
                )
            time.sleep(0.2)
