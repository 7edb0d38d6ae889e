"""The sandbox federation: one real server per protocol standing in for the 19 nodes.

``Sandbox`` starts and stops them (usable from tests and the demo), hands out
the environment the default ``nodes.toml`` needs (URLs and tokens), switches
faults per node, and keeps the federation alive with ``tick()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from connectors.config import NodeTable, load_node_table
from connectors.sandbox import graphql_app, lapor_app, open311_app, rest_app
from connectors.sandbox.common import Backend
from connectors.sandbox.data import new_report, seed_reports
from connectors.sandbox.faults import Fault, Faults
from connectors.sandbox.pgnode import PostgresNode
from connectors.sandbox.push_app import PushReceiver
from connectors.sandbox.server import LoopbackServer
from connectors.sandbox.store import NodeSystem
from connectors.sandbox.vocabulary import (
    CRM,
    KABUPATEN_GRAPHQL,
    LAPOR,
    OPEN311,
    SIMPEL,
    NodeVocabulary,
)
from schema.regions import REGIONS

_log = logging.getLogger(__name__)

# Which protocol stands in for which node; the default nodes.toml says the same
# (a test holds the two together).
LAYOUT: Mapping[str, str] = {
    **dict.fromkeys(("16.71", "16.73", "16.74", "16.09"), "open311"),
    **dict.fromkeys(("16.01", "16.02", "16.03", "16.04", "16.05", "16.06", "16.08"), "rest"),
    **dict.fromkeys(("16", "16.07", "16.10"), "graphql"),
    "lapor": "lapor",
    **dict.fromkeys(("16.12", "16.13"), "postgres"),
    **dict.fromkeys(("16.11", "16.72"), "push"),
}
VOCABULARIES: Mapping[str, NodeVocabulary] = {
    "open311": OPEN311, "rest": CRM, "graphql": KABUPATEN_GRAPHQL, "lapor": LAPOR,
    "postgres": SIMPEL,
}  # fmt: skip
_APPS = {
    "open311": open311_app.build_app, "rest": rest_app.build_app,
    "graphql": graphql_app.build_app, "lapor": lapor_app.build_app,
}  # fmt: skip


def token_variable(node: str) -> str:
    """The environment variable holding a node's credential in the default table."""
    return "SP4N_TOKEN_" + node.replace(".", "_").upper()


def url_variable(protocol: str) -> str:
    return f"SANDBOX_{protocol.upper()}_URL"


def dsn_variable(node: str) -> str:
    return "SANDBOX_PG_" + node.replace(".", "_")


def _ids(protocol: str, node: str, rng: random.Random) -> Callable[[], str]:
    counter = itertools.count(1)
    digits = node.replace(".", "")
    if protocol == "open311":
        return lambda: f"{digits}-{next(counter):05d}"
    if protocol == "rest":
        return lambda: str(1000 + next(counter))
    if protocol == "graphql":
        return lambda: f"ADU-{digits}-{next(counter):04d}"
    if protocol == "lapor":
        # Opaque 7-digit tracking ids like LAPOR!'s own ("1916449"), with gaps.
        return lambda: str(1916442 + 7 * next(counter) + rng.randint(0, 6))
    return lambda: str(next(counter))


class Sandbox:
    """All sandbox node systems, served on loopback ports."""

    def __init__(
        self,
        *,
        seed: int = 1708,
        reports_per_node: int = 24,
        postgres_url: str | None = None,
        ports: Mapping[str, int] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        delay: float = 0.0,
    ) -> None:
        """``delay``: seconds each HTTP node waits before answering any call (the
        database nodes answer as fast as their PostgreSQL does)."""
        self.seed = seed
        self.postgres_url = postgres_url
        self.faults = Faults(delay)
        self._rng = random.Random(seed)
        self._ports = dict(ports or {})
        self.systems: dict[str, NodeSystem] = {}
        self.databases: dict[str, PostgresNode] = {}
        self.tokens = {node: f"sandbox-{seed}-{node}" for node in LAYOUT}
        for node, protocol in LAYOUT.items():
            if protocol in ("push", "postgres"):
                continue
            rng = random.Random(f"{seed}:{node}")
            system = NodeSystem(node, VOCABULARIES[protocol], clock, _ids(protocol, node, rng))
            regions = tuple(r.code for r in REGIONS) if protocol == "lapor" else (node,)
            ids = [system.next_id() for _ in range(reports_per_node)]
            system.load(seed_reports(rng, node, protocol, system.vocabulary, regions, ids))
            self.systems[node] = system
        self._pg_seed = reports_per_node
        push_nodes = {n: self.tokens[n] for n, p in LAYOUT.items() if p == "push"}
        self.push = PushReceiver(push_nodes, self.faults)
        self._servers: dict[str, LoopbackServer] = {}
        self._ticker: asyncio.Task[None] | None = None

    @property
    def nodes(self) -> tuple[str, ...]:
        """The nodes served: all 19 with a PostgreSQL, 17 without."""
        return tuple(n for n, p in LAYOUT.items() if p != "postgres" or self.postgres_url)

    async def start(self) -> None:
        try:
            for protocol, build in _APPS.items():
                served = {n: s for n, s in self.systems.items() if LAYOUT[n] == protocol}
                app = build(Backend(served, self.tokens, self.faults))
                await self._serve(protocol, LoopbackServer(app, port=self._ports.get(protocol, 0)))
            push = LoopbackServer(self.push.build_app(), port=self._ports.get("push", 0))
            await self._serve("push", push)
            if self.postgres_url:
                await self._create_databases(self.postgres_url)
        except BaseException:
            await self.stop()
            raise

    async def _serve(self, protocol: str, server: LoopbackServer) -> None:
        await server.start()
        self._servers[protocol] = server

    async def _create_databases(self, url: str) -> None:
        async def create(node: str) -> None:
            rng = random.Random(f"{self.seed}:{node}")
            ids = [str(i) for i in range(1, self._pg_seed + 1)]
            database = PostgresNode(node, SIMPEL, url)
            self.databases[node] = database
            await database.create(seed_reports(rng, node, "postgres", SIMPEL, (node,), ids))

        await asyncio.gather(*(create(n) for n, p in LAYOUT.items() if p == "postgres"))

    async def stop(self) -> None:
        """Stops ticking and every server; hanging calls are released first."""
        await self.stop_ticking()
        self.faults.clear()
        servers, self._servers = list(self._servers.values()), {}
        # Concurrently: each server notices the stop only on its next 0.1 s tick.
        await asyncio.gather(*(server.stop() for server in servers))
        databases, self.databases = list(self.databases.values()), {}
        await asyncio.gather(*(database.drop() for database in databases))

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def url(self, protocol: str) -> str:
        return self._servers[protocol].url

    def env(self) -> dict[str, str]:
        """What the default ``nodes.toml`` reads: server URLs, DSNs and node tokens."""
        env = {url_variable(p): s.url for p, s in self._servers.items()}
        env |= {dsn_variable(n): d.dsn for n, d in self.databases.items()}
        env |= {token_variable(n): t for n, t in self.tokens.items()}
        return env

    def node_table(self, path: Path | None = None) -> NodeTable:
        """The node table pointed at this sandbox (only the nodes it serves)."""
        env = self.env()
        for node, protocol in LAYOUT.items():
            # Without a PostgreSQL the database nodes are not served; a stand-in
            # DSN lets the table load, and `only` drops those nodes again.
            if protocol == "postgres" and node not in self.databases:
                env[dsn_variable(node)] = "postgresql://unserved@127.0.0.1:9/unserved"
        return load_node_table(env, path).only(set(self.nodes))

    def honour_keys(self, node: str, honoured: bool = True) -> None:
        """Makes ``node``'s system honour (or ignore) event ids, hub report ids and
        Idempotency-Keys. The database nodes' keys are their own constraints and the
        node table's SQL, which they always honour."""
        if node not in self.systems:
            raise ValueError(f"node {node} has no keys to ignore (database or push node)")
        self.systems[node].honour_keys = honoured

    async def writes(self, node: str) -> dict[str, list[str]]:
        """The event ids of the hub's writes each report holds (a push node's received
        events under ``""``): an event id twice in one list is a doubled write-back."""
        if node in self.databases:
            return await self.databases[node].writes()
        if node in self.systems:
            return {r.id: [u.event_id for u in r.updates] for r in self.systems[node] if r.updates}
        return {"": [str(e["id"]) for e in self.push.received[node]]}

    def fault(self, node: str, fault: Fault) -> None:
        """Makes ``node`` misbehave (Fault.NONE heals it)."""
        self.faults.set(node, fault)

    async def status_of(self, node: str, external_id: str) -> str | None:
        """The node's own label for a report, read inside the node (not through its API)."""
        if node in self.databases:
            return await self.databases[node].status_of(external_id)
        report = self.systems[node].reports.get(external_id)
        return report.status if report else None

    async def inventory(self, node: str) -> dict[str, tuple[str | None, list[str]]]:
        """Every report the node holds: external id -> (hub report id, attachment ids)."""
        if node in self.databases:
            return await self.databases[node].inventory()
        return {r.id: (r.hub_id, [a.id for a in r.attachments]) for r in self.systems[node]}

    def introduce_status(self, node: str, *labels: str) -> None:
        """The node's staff start using statuses their system did not have (a vendor
        update, or an extension of a standard's vocabulary). Final: the node's own ticks
        never move a report out of them. A label the system has already is left as it is."""
        system = self.systems[node]
        vocabulary = system.vocabulary
        new = tuple(label for label in labels if label not in vocabulary.labels)
        system.vocabulary = replace(vocabulary, extra=(*vocabulary.extra, *new))

    async def set_status(self, node: str, external_id: str, label: str) -> None:
        """Changes a report's label as the node's own staff would."""
        if node in self.databases:
            await self.databases[node].set_status(external_id, label)
            return
        system = self.systems[node]
        system.set_status(system.reports[external_id], label, f"Status {label}")

    async def reply(self, node: str, external_id: str, content: str) -> None:
        """The reporter answers a follow-up in the node's own app."""
        if node in self.databases:
            await self.databases[node].reply(external_id, content)
            return
        system = self.systems[node]
        system.reply(system.reports[external_id], content)

    async def rate(self, node: str, external_id: str, score: int, comment: str | None) -> None:
        """The reporter rates a report in the node's own app."""
        if node in self.databases:
            await self.databases[node].rate(external_id, score, comment)
            return
        system = self.systems[node]
        system.rate(system.reports[external_id], score, comment)

    async def interleave(self, node: str, moment: str, label: str) -> None:
        """The node's staff give the next report the hub touches ``label`` at ``moment``
        of the hub's calls: ``created`` (right after the hub created it, before the
        hub's next call) or ``writing`` (as the hub's next write arrives, before the
        node applies it; not for a database node). A test's deterministic
        interleaving, once."""
        if node in self.databases:
            await self.databases[node].interleave(moment, label)
            return
        system = self.systems[node]
        system.interleaved[moment] = lambda report: system.set_status(
            report, label, f"Status {label}"
        )

    async def tick(self, changes: int = 3) -> list[tuple[str, str]]:
        """Staff at ``changes`` nodes move a report on; now and then a citizen files one.

        Returns (node, external id) of every report that changed.
        """
        pulled = [n for n in self.nodes if LAYOUT[n] != "push"]
        moved: list[tuple[str, str]] = []
        for node in self._rng.sample(pulled, min(changes, len(pulled))):
            if node in self.databases:
                report_id = await self.databases[node].advance(self._rng)
                if report_id is not None:
                    moved.append((node, report_id))
                continue
            system = self.systems[node]
            if self._rng.random() < 0.2:
                protocol = LAYOUT[node]
                region = "16" if node == "lapor" else node
                report = new_report(
                    self._rng, node, protocol, system.vocabulary, system.next_id(), region,
                    created=system.stamp(),
                )  # fmt: skip
                moved.append((node, system.add(report).id))
            elif (advanced := system.advance(self._rng)) is not None:
                moved.append((node, advanced.id))
        return moved

    def start_ticking(self, interval: float, changes: int = 3) -> None:
        """Ticks in the background every ``interval`` seconds until ``stop_ticking``."""
        if self._ticker is None:
            self._ticker = asyncio.create_task(self._tick_forever(interval, changes))

    async def stop_ticking(self) -> None:
        if self._ticker is not None:
            ticker, self._ticker = self._ticker, None
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker

    async def _tick_forever(self, interval: float, changes: int) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.tick(changes)
            except Exception:  # a failed tick (e.g. the database restarting) must not end the demo
                _log.exception("sandbox tick failed")
