"""The sandbox nodes served from a child process, as the regencies' systems are other machines.

``SandboxProcess`` starts a spawned child that seeds and serves a ``Sandbox``
(HTTP servers and database nodes), hands back what the node table needs (the
environment and the nodes served), and stops it on ``stop`` (or when the parent
goes away). The hub under test then has its own core instead of sharing it with
the servers standing in for the nodes.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
from multiprocessing.connection import Connection
from types import TracebackType

from bench.harness import process_cpu_seconds
from connectors.config import NodeTable, load_node_table
from connectors.sandbox.sandbox import Sandbox

_STARTUP_SECONDS = 600.0


async def _serve(conn: Connection, reports_per_node: int, postgres_url: str | None) -> None:
    sandbox = Sandbox(reports_per_node=reports_per_node, postgres_url=postgres_url)
    async with sandbox:
        conn.send(("ready", sandbox.env(), sandbox.nodes))
        loop = asyncio.get_running_loop()
        stopped = asyncio.Event()

        def answer() -> None:
            # "stop", or the parent closing its end, stops the sandbox.
            with contextlib.suppress(EOFError):
                conn.recv()
            stopped.set()

        loop.add_reader(conn.fileno(), answer)
        try:
            await stopped.wait()
        finally:
            loop.remove_reader(conn.fileno())


def _child(conn: Connection, reports_per_node: int, postgres_url: str | None) -> None:
    try:
        asyncio.run(_serve(conn, reports_per_node, postgres_url))
    except BaseException as error:
        conn.send(("failed", f"{type(error).__name__}: {error}", ()))
        raise
    finally:
        conn.close()


class SandboxProcess:
    """A ``Sandbox`` in a child process; ``node_table()`` points the hub at it."""

    def __init__(self, *, reports_per_node: int, postgres_url: str | None = None) -> None:
        self._args = (reports_per_node, postgres_url)
        self._conn: Connection | None = None
        self._process: multiprocessing.process.BaseProcess | None = None
        self.env: dict[str, str] = {}
        self.nodes: tuple[str, ...] = ()

    def start(self) -> None:
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        process = context.Process(
            target=_child, args=(theirs, *self._args), name="sandbox", daemon=True
        )
        process.start()
        theirs.close()
        self._conn, self._process = ours, process
        if not ours.poll(_STARTUP_SECONDS):
            self.stop()
            raise RuntimeError("the sandbox process did not start in time")
        status, env, nodes = ours.recv()
        if status != "ready":
            self.stop()
            raise RuntimeError(f"the sandbox process failed: {env}")
        self.env, self.nodes = dict(env), tuple(nodes)

    def stop(self) -> None:
        conn, process, self._conn, self._process = self._conn, self._process, None, None
        if conn is not None:
            with contextlib.suppress(OSError):  # already gone
                conn.send("stop")
            conn.close()
        if process is not None:
            process.join(30)
            if process.is_alive():
                process.terminate()
                process.join(5)

    def cpu_seconds(self) -> float:
        """The CPU time the sandbox process has used so far."""
        assert self._process is not None, "the sandbox process is not running"
        assert self._process.pid is not None
        return process_cpu_seconds(self._process.pid)

    def node_table(self) -> NodeTable:
        """The default node table pointed at the child's servers (only the nodes served)."""
        return load_node_table(self.env).only(set(self.nodes))

    def __enter__(self) -> SandboxProcess:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
