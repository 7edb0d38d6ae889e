"""The sandbox nodes served from a child process, as the regencies' systems are other machines.

``SandboxProcess`` starts a spawned child that seeds and serves a ``Sandbox``
(HTTP servers and database nodes), hands back what the node table needs (the
environment and the nodes served), and stops it on ``stop`` (or when the parent
goes away). The hub under test then has its own core instead of sharing it with
the servers standing in for the nodes.

While it runs, ``held_count``, ``held`` and ``writes`` ask the child what the HTTP nodes'
systems hold of the hub's write-backs (``bench.e2e_connectors`` checks and times them,
``tests/hub/sync/test_fault_suite.py`` counts them per report).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from types import TracebackType

from bench.harness import process_cpu_seconds
from connectors.config import NodeTable, load_node_table
from connectors.sandbox.sandbox import LAYOUT, Sandbox, dsn_variable

_STARTUP_SECONDS = 600.0
_ANSWER_SECONDS = 120.0


@dataclass(frozen=True, slots=True)
class Held:
    """One write-back a node's system holds: the hub's report and event ids, and when
    the node took it (``time.time()``, so comparable with the parent's clock)."""

    node: str
    report_id: str | None
    """The hub's report id (None: a report the node does not know as the hub's)."""
    event_id: str
    at: float


class _StampedList(list[dict[str, object]]):
    """A push receiver's list of received events that notes when each came."""

    def __init__(self, stamps: list[float]) -> None:
        super().__init__()
        self._stamps = stamps

    def append(self, event: dict[str, object], /) -> None:
        self._stamps.append(time.time())
        super().append(event)


class _Answers:
    """What the parent may ask of the running sandbox."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.stamps: dict[str, list[float]] = {}
        for node in sandbox.push.received:
            self.stamps[node] = []
            sandbox.push.received[node] = _StampedList(self.stamps[node])

    def held_count(self) -> int:
        """Write-backs taken by the HTTP nodes' systems (each apply, repeats included)."""
        systems = sum(s.writes for s in self.sandbox.systems.values())
        return systems + sum(len(r) for r in self.sandbox.push.received.values())

    def held(self) -> tuple[list[Held], dict[str, int], dict[str, int]]:
        """Every write-back held, in each report's order of arrival; the calls each node
        received; and per node the reports created for a hub report id more than once."""
        found: list[Held] = []
        doubled: dict[str, int] = {}
        for node, system in self.sandbox.systems.items():
            hub_ids = [r.hub_id for r in system if r.hub_id is not None]
            doubled[node] = len(hub_ids) - len(set(hub_ids))
            for report in system:
                found += [
                    Held(node, report.hub_id, u.event_id, u.at.timestamp()) for u in report.updates
                ]
        for node, events in self.sandbox.push.received.items():
            for event, at in zip(events, self.stamps[node], strict=True):
                subject = event.get("subject")
                found.append(
                    Held(node, subject if isinstance(subject, str) else None, str(event["id"]), at)
                )
        return found, dict(self.sandbox.faults.calls), doubled

    def writes(self) -> dict[str, dict[str, list[str]]]:
        """Per HTTP node's system, the event ids of the hub's writes each report holds
        (``Sandbox.writes``): an event id twice in one list is a doubled write-back."""
        return {
            node: {r.id: [u.event_id for u in r.updates] for r in system if r.updates}
            for node, system in self.sandbox.systems.items()
        }


async def _serve(
    conn: Connection,
    reports_per_node: int,
    postgres_url: str | None,
    delay: float,
    honour_keys: bool,
) -> None:
    sandbox = Sandbox(reports_per_node=reports_per_node, postgres_url=postgres_url, delay=delay)
    for node in sandbox.systems:
        sandbox.honour_keys(node, honour_keys)
    answers = _Answers(sandbox)
    async with sandbox:
        conn.send(("ready", sandbox.env(), sandbox.nodes))
        loop = asyncio.get_running_loop()
        stopped = asyncio.Event()

        def answer() -> None:
            # "stop", or the parent closing its end, stops the sandbox; a question is
            # answered.
            try:
                message = conn.recv()
            except EOFError:
                message = "stop"
            if message == "held_count":
                conn.send(answers.held_count())
            elif message == "held":
                conn.send(answers.held())
            elif message == "writes":
                conn.send(answers.writes())
            else:
                stopped.set()

        loop.add_reader(conn.fileno(), answer)
        try:
            await stopped.wait()
        finally:
            loop.remove_reader(conn.fileno())


def _child(
    conn: Connection,
    reports_per_node: int,
    postgres_url: str | None,
    delay: float = 0.0,
    honour_keys: bool = True,
) -> None:
    try:
        asyncio.run(_serve(conn, reports_per_node, postgres_url, delay, honour_keys))
    except BaseException as error:
        conn.send(("failed", f"{type(error).__name__}: {error}", ()))
        raise
    finally:
        conn.close()


class SandboxProcess:
    """A ``Sandbox`` in a child process; ``node_table()`` points the hub at it.

    ``delay``: seconds each HTTP node waits before answering a call; ``honour_keys``
    False: the nodes' systems honour no event ids or keys, so a write-back sent twice
    shows twice (``Sandbox.honour_keys``).
    """

    def __init__(
        self,
        *,
        reports_per_node: int,
        postgres_url: str | None = None,
        delay: float = 0.0,
        honour_keys: bool = True,
    ) -> None:
        self._args = (reports_per_node, postgres_url, delay, honour_keys)
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

    def _ask(self, question: str) -> object:
        conn = self._conn
        assert conn is not None, "the sandbox process is not running"
        conn.send(question)
        if not conn.poll(_ANSWER_SECONDS):
            raise RuntimeError(f"the sandbox process did not answer {question!r} in time")
        return conn.recv()

    def held_count(self) -> int:
        """How many write-backs the HTTP nodes' systems have taken so far."""
        count = self._ask("held_count")
        assert isinstance(count, int)
        return count

    def held(self) -> tuple[list[Held], dict[str, int], dict[str, int]]:
        """Every write-back the HTTP nodes' systems hold (``_Answers.held``)."""
        return self._ask("held")  # type: ignore[return-value]

    def writes(self) -> dict[str, dict[str, list[str]]]:
        """What each HTTP node's system holds of the hub's writes (``_Answers.writes``)."""
        return self._ask("writes")  # type: ignore[return-value]

    def cpu_seconds(self) -> float:
        """The CPU time the sandbox process has used so far."""
        assert self._process is not None, "the sandbox process is not running"
        assert self._process.pid is not None
        return process_cpu_seconds(self._process.pid)

    def node_table(self) -> NodeTable:
        """The default node table pointed at the child's servers (only the nodes served)."""
        env = dict(self.env)
        for node in (n for n, protocol in LAYOUT.items() if protocol == "postgres"):
            # Database nodes not served (no PostgreSQL given): a stand-in DSN lets the
            # table load, and `only` drops those nodes again (as Sandbox.node_table).
            env.setdefault(dsn_variable(node), "postgresql://unserved@127.0.0.1:9/unserved")
        return load_node_table(env).only(set(self.nodes))

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
