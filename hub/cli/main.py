"""The ``sp4n-hub`` command: migrate, serve, worker, demo, export-schema, replay, sync."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import uvicorn
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TimeElapsedColumn
from starlette.applications import Starlette

from connectors.federation import Federation
from connectors.protocol import Connector
from connectors.sandbox.sandbox import Sandbox
from hub import wiring
from hub.app import create_app
from hub.cli import admin
from hub.cli.calendar import add_calendar_parser, calendar_command
from hub.cli.institutions import add_institutions_parser, institutions_command
from hub.cli.server import Server
from hub.cli.users import add_users_parser, users_command
from hub.errors import ConfigError
from hub.logs import use_json_lines
from hub.settings import ALL_ROLES, WORKER_ROLES, Role, Secret, Settings, SyncMode, masked_url
from hub.store.database import Database
from hub.sync.bus import Topics
from schema.asyncapi import render
from schema.nodes import NODES

if TYPE_CHECKING:
    from hub.demo.accounts import DemoAccount

DEMO_REPORTS = 6_000
SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema" / "hub.graphql"
ASYNCAPI_FILE = SCHEMA_FILE.with_name("asyncapi.yaml")
SUBGRAPH_FILE = SCHEMA_FILE.with_name("subgraph.graphql")

console = Console(stderr=True)
_log = logging.getLogger(__name__)


def _counted_bar() -> Progress:
    """A progress bar of tasks that know their total: done of total, time taken."""
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


async def _migrate(url: str) -> None:
    db = Database(url, min_size=1, max_size=1)
    await db.open()
    try:
        applied = await db.migrate()
    finally:
        await db.close()
    if applied:
        console.print(f"applied {len(applied)} migration(s): now at {applied[-1].version:04d}")
    else:
        console.print("the database is already at the newest migration")


async def _seed_if_empty(url: str, count: int) -> None:
    from hub.demo.seed import seed_reports, seeded_count

    db = Database(url, min_size=1, max_size=1)
    await db.open()
    try:
        async with db.pool.acquire() as conn:
            existing = await seeded_count(conn)
            if existing:
                console.print(f"reusing the demo data: {existing:,} reports")
                return
            with _counted_bar() as bar:
                task = bar.add_task("seeding demo reports", total=count)
                await seed_reports(conn, count, progress=lambda n: bar.update(task, completed=n))
    finally:
        await db.close()


async def _demo_accounts(url: str) -> list[tuple[DemoAccount, str]]:
    from hub.demo.accounts import demo_accounts

    db = Database(url, min_size=1, max_size=1)
    await db.open()
    try:
        return await demo_accounts(db)
    finally:
        await db.close()


def _sync_line(settings: Settings) -> str:
    if settings.sync is SyncMode.KAFKA:
        return f"sync: Apache Kafka at {settings.kafka_bootstrap_servers}"
    if settings.sync is SyncMode.MEMORY:
        return "sync: in-process bus (KAFKA_BOOTSTRAP_SERVERS not set; events are not durable)"
    return "sync: off"


def _roles_line(settings: Settings) -> str:
    names = ", ".join(r.value for r in Role if r in settings.roles)
    if Role.API not in settings.roles:
        return f"roles: {names}" + (" (no HTTP)" if settings.metrics_port is None else "")
    if settings.roles == ALL_ROLES:
        return f"roles: {names} (everything in this process)"
    return f"roles: {names} (the background work runs in `sp4n-hub worker` processes)"


async def _serve(settings: Settings) -> None:
    console.print(f"[bold green]sp4n-hub[/] serving on http://{settings.host}:{settings.port}")
    console.print(f"  {_roles_line(settings)}")
    console.print(f"  {_sync_line(settings)}")
    console.print(f"  nodes: {wiring.nodes_served(settings)}")
    console.print(f"  {wiring.tracing_line(settings)}")
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        lifespan="on",
        # JSON lines: uvicorn's loggers (its access lines too) write through the root's.
        log_config=None if settings.log_json else uvicorn.config.LOGGING_CONFIG,
    )
    await uvicorn.Server(config).serve()


async def _work(settings: Settings) -> int:
    """The worker's roles in this process until SIGINT or SIGTERM: the app's own
    lifespan, so its loops are built and started as ``serve --all`` does. With a metrics
    port it serves the app's probes there (``/healthz``, ``/readyz``, ``/metrics``) and
    nothing else; without one, no HTTP."""
    console.print("[bold green]sp4n-hub[/] worker")
    console.print(f"  {_roles_line(settings)}")
    if settings.worker_nodes is not None:
        console.print(f"  sinks and pulls of nodes {', '.join(sorted(settings.worker_nodes))}")
    console.print(f"  {_sync_line(settings)}")
    console.print(f"  nodes: {wiring.nodes_served(settings)}")
    console.print(f"  {wiring.tracing_line(settings)}")
    app = create_app(settings)
    if settings.metrics_port is not None:
        console.print(
            f"  health and metrics on http://{settings.host}:{settings.metrics_port}"
            "/healthz, /readyz, /metrics"
        )
        probes = Starlette(routes=app.state.probes.routes(), lifespan=app.router.lifespan_context)
        config = uvicorn.Config(
            probes,
            host=settings.host,
            port=settings.metrics_port,
            log_level="warning",
            access_log=False,
            lifespan="on",
        )
        server = Server(config)
        await server.serve()
        if not server.started:
            return 1  # the lifespan failed to start; uvicorn logged why
    else:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with app.router.lifespan_context(app):
            _log.info("worker running: %s", _roles_line(settings))
            await stop.wait()
    sync = app.state.sync
    # A sync loop that died stopped us (SIGTERM): say so, for the supervisor.
    return 1 if sync is not None and sync.failure is not None else 0


def worker_settings(settings: Settings, roles: Sequence[str], nodes: str | None) -> Settings:
    """``settings`` for ``sp4n-hub worker --role ... --nodes ...``; a ConfigError names
    an unknown node."""
    chosen = frozenset(Role(r) for r in roles) if roles else WORKER_ROLES
    only = None
    if nodes is not None:
        codes = [c.strip() for c in nodes.split(",") if c.strip()]
        unknown = [c for c in codes if c not in {n.code for n in NODES}]
        if unknown or not codes:
            raise ConfigError(
                f"--nodes takes node codes separated by commas; unknown: {', '.join(unknown)}"
                if unknown
                else "--nodes takes node codes separated by commas, got none"
            )
        only = frozenset(codes)
    return replace(settings, roles=chosen, worker_nodes=only)


def _banner(
    settings: Settings,
    database: str,
    tokens: list[tuple[admin.DemoClient, str]],
    sandbox: Sandbox,
    accounts: list[tuple[DemoAccount, str]],
) -> None:
    from hub.demo.sandbox import POLL_SECONDS, TICK_SECONDS

    url = f"http://{settings.host}:{settings.port}/graphql"
    console.print(f"[bold green]sp4n-hub[/] GraphiQL: [link={url}]{url}[/link]")
    console.print(f"  database: {masked_url(database)}")
    console.print(
        f"  sandboxes: {len(sandbox.nodes)} node systems running on loopback, served through "
        f"their connectors (pulled every {POLL_SECONDS:g} s; their staff act every "
        f"{TICK_SECONDS:g} s):"
    )
    for protocol, nodes in _sandbox_servers(sandbox):
        console.print(f"    {protocol:<8} {sandbox.url(protocol)}  nodes {', '.join(nodes)}")
    if sandbox.postgres_url is not None:
        where = masked_url(sandbox.postgres_url)
        console.print(f"    postgres {where}  nodes {', '.join(sorted(sandbox.databases))}")
    console.print(f"  {_sync_line(settings)}")
    console.print(f"  {wiring.tracing_line(settings)}")
    console.print(
        "  tokens (12 h) for GraphiQL's Headers tab, as "
        '{"Authorization": "Bearer <token>"}; without one you are the public:'
    )
    for client, token in tokens:
        console.print(f"  [bold]{client.who}[/] ({' '.join(client.scopes)}):")
        print(f"    {token}")
    console.print("  try: { nodes { code health { healthy } circuit lastPulledAt } }")
    login = f"http://{settings.host}:{settings.port}/login"
    console.print(f"  people log in at [link={login}]{login}[/link] (passwords new each start):")
    for account, password in accounts:
        where = f" {account.node_code}" if account.node_code else ""
        console.print(f"    {account.role.value + where:<16} {account.login:<16} {password}")
    console.print("  press Ctrl-C to stop")


def _sandbox_servers(sandbox: Sandbox) -> list[tuple[str, list[str]]]:
    from connectors.sandbox.sandbox import LAYOUT

    protocols = sorted({p for p in LAYOUT.values() if p != "postgres"})
    return [(p, [n for n in sandbox.nodes if LAYOUT[n] == p]) for p in protocols]


async def _serve_demo(
    settings: Settings,
    url: str,
    tokens: list[tuple[admin.DemoClient, str]],
    accounts: list[tuple[DemoAccount, str]],
) -> None:
    """The sandbox nodes, then the hub serving them through their connectors; Ctrl-C
    stops the hub, then the sandbox."""
    from hub.demo.sandbox import demo_node_table, running_sandbox

    async with running_sandbox(url) as sandbox:
        table = demo_node_table(sandbox, settings.node_table)
        app = create_app(replace(settings, connectors=True), node_table=table)
        _banner(settings, url, tokens, sandbox, accounts)
        # The banner says where everything is; uvicorn's lines and the connectors'
        # every request (httpx logs each at INFO) would bury it.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_level="warning",
            access_log=False,
            lifespan="on",
        )
        await Server(config).serve()
        console.print("stopping the sandbox nodes …")


def demo(settings: Settings) -> None:
    """Embedded PostgreSQL, migrations, demo data, the sandbox nodes, then the hub
    serving them; Ctrl-C stops all."""
    from infra.postgres import EmbeddedPostgres

    if settings.database_url is not None:
        url = settings.database_url.value
        server = None
    else:
        server = EmbeddedPostgres(settings.data_dir / "postgres")
        console.print(f"starting embedded PostgreSQL (data in {server.pgdata}) …")
        url = server.start()
    try:
        asyncio.run(_migrate(url))
        asyncio.run(_seed_if_empty(url, DEMO_REPORTS))
        running = replace(settings, database_url=Secret(url))
        tokens = asyncio.run(admin.demo_tokens(running, url))
        accounts = asyncio.run(_demo_accounts(url))
        asyncio.run(_serve_demo(running, url, tokens, accounts))
    finally:
        if server is not None:
            console.print("stopping embedded PostgreSQL …")
            server.stop()


def _require_kafka(settings: Settings) -> str:
    if not settings.kafka_bootstrap_servers:
        raise ConfigError(
            "KAFKA_BOOTSTRAP_SERVERS is not set; replay reads the state topic from Kafka "
            "(the in-process bus of the demo keeps nothing to replay)"
        )
    return settings.kafka_bootstrap_servers


def _replay_progress(bar: Progress, task: TaskID) -> Callable[[int, int], None]:
    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    return update


def _replay_targets(federation: Federation, codes: Sequence[str]) -> list[Connector]:
    """The connectors a replay writes through; a ConfigError naming every node asked
    for that has none able to write (so nothing is forgotten or recorded for it)."""
    missing = [code for code in codes if code not in federation.connectors]
    # A push node without a webhook only keeps events in this process's memory:
    # recording them as held would claim a state the node never received.
    unheard = [
        code
        for code in codes
        if code in federation.connectors
        and federation[code].config.kind == "push"
        and federation[code].config.url is None
    ]
    problems = []
    if missing:
        problems.append(f"not in the node table: {', '.join(missing)}")
    if unheard:
        problems.append(f"push nodes without a webhook url to write to: {', '.join(unheard)}")
    if problems:
        raise ConfigError(
            f"replay has no connector to write to some nodes ({'; '.join(problems)}); "
            "nothing was replayed or forgotten"
        )
    return [federation[code] for code in codes]


async def _replay(
    settings: Settings, env: Mapping[str, str], codes: Sequence[str], *, reset: bool
) -> int:
    """Replays the state topic into each node through its connector, one node after
    another; refuses before touching anything when a node has no connector to write to."""
    import asyncpg

    from hub.sync.bus import BusError
    from hub.sync.kafka import KafkaBus
    from hub.sync.replay import ReplayError, ReplayResult, replay_state
    from hub.sync.sink import SinkWorker, TryLater

    wiring.database_url(settings)
    servers = _require_kafka(settings)
    if not settings.connectors:
        raise ConfigError(
            "replay writes into the nodes' systems through their connectors, and the nodes "
            f"are {wiring.nodes_served(settings)}; give the node table (SP4N_NODE_TABLE) or "
            "set SP4N_CONNECTORS=1 for the packaged connectors/nodes.toml, with the URLs "
            "and credentials it names; nothing was replayed or forgotten"
        )
    db = wiring.database(settings, max_size=4)
    # The whole table is built (a bad one fails whole); only the nodes replayed start.
    targets = Federation(
        {c.node_code: c for c in _replay_targets(wiring.federation(db, settings, env), codes)}
    )
    topics = wiring.topics(settings)
    bus = KafkaBus(servers, topics)
    results: list[ReplayResult] = []
    try:
        await db.open()
        try:
            await targets.start()
            try:
                await bus.start()
                try:
                    with _counted_bar() as bar:
                        for connector in targets:
                            task = bar.add_task(
                                f"replaying {topics.state} into {connector.node_code}",
                                total=None,
                            )
                            worker = SinkWorker(connector, bus, db)
                            results.append(
                                await replay_state(
                                    bus, worker, reset=reset, progress=_replay_progress(bar, task)
                                )
                            )
                finally:
                    await bus.stop()
            finally:
                await targets.stop()
        finally:
            await db.close()
    except asyncpg.UndefinedTableError:
        console.print("[red]the database is not migrated:[/] run `sp4n-hub migrate` first")
        return 1
    except (BusError, ReplayError, TryLater) as error:
        # What reached a node is recorded, the rest is not: a replay without --reset
        # later writes only what is still missing.
        console.print(
            f"[red]replay failed:[/] {error}; run it again without --reset once that is "
            "mended: it writes only what the node still lacks"
        )
        return 1
    for r in results:
        forgot = f"; forgot {r.forgotten:,} held reports first" if reset else ""
        console.print(
            f"node {r.node_code}: read {r.read:,} state records{forgot}; applied {r.applied:,}, "
            f"stale {r.stale:,}, duplicates {r.duplicates:,}, dead-lettered {r.dead_lettered:,}"
        )
    return 0


async def _sync(
    settings: Settings, env: Mapping[str, str], codes: Sequence[str], *, once: bool
) -> int:
    """Pulls each node from its watermark with a progress bar, then (unless ``once``)
    keeps pulling every node's ``poll_interval`` until interrupted."""
    from connectors.errors import ConnectorError

    # The command is the pulls: through the connectors (whatever SP4N_CONNECTORS
    # says), with no sync loops and a small pool.
    pulling = replace(
        settings, connectors=True, sync=SyncMode.OFF, pool_min_size=1, pool_max_size=4
    )
    built = wiring.components(pulling, env=env)
    db, federation, ingest = built.db, built.federation, built.ingest
    assert federation is not None  # connectors are on
    assert ingest is not None
    await db.open()
    try:
        connectors = ingest.pulling(codes or None)
        if not connectors:
            console.print("[yellow]no pulling node selected[/] (push nodes are never pulled)")
            return 1
        await federation.start()
        try:
            failed: list[str] = []
            with Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                "{task.completed:,} changes",
                TimeElapsedColumn(),
                console=console,
            ) as bar:

                async def pull(connector: Connector) -> None:
                    task = bar.add_task(f"pulling {connector.node_code}", total=None)
                    try:
                        await ingest.pull_once(
                            connector,
                            on_page=lambda page: bar.advance(task, len(page.changes)),
                        )
                        bar.update(task, total=bar.tasks[task].completed or 1, completed=None)
                    except ConnectorError as error:
                        failed.append(f"{connector.node_code}: {error}")
                        bar.update(task, description=f"[red]{connector.node_code} failed")

                await asyncio.gather(*(pull(c) for c in connectors))
            for node, stats in sorted(ingest.stats.items()):
                console.print(
                    f"node {node}: {stats.changes:,} changes in {stats.pages:,} pages; "
                    f"submitted {stats.submitted:,}, moved {stats.moved:,}, "
                    f"unchanged {stats.unchanged:,}, to review {stats.reviewed:,}"
                )
            for line in failed:
                console.print(f"[red]pull failed:[/] {line}")
            if once:
                return 1 if failed else 0
            console.print("pulling every node's poll interval; Ctrl+C stops")
            await ingest.run(asyncio.Event(), [c.node_code for c in connectors])
            return 0
        finally:
            await ingest.close()
            await federation.stop()
    finally:
        await db.close()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sp4n-hub", description="The SP4N-LAPOR! federation hub of South Sumatra."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply the database migrations (needs DATABASE_URL)")
    serve = sub.add_parser(
        "serve",
        help="serve the API (GraphQL, HTTP) against DATABASE_URL; the background work "
        "runs in `worker` processes",
    )
    serve.add_argument(
        "--all",
        action="store_true",
        help="also do every worker role in this process (one process, as before)",
    )
    work = sub.add_parser(
        "worker",
        help="the background work, no HTTP (needs DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS)",
    )
    work.add_argument(
        "--role",
        action="append",
        choices=[r.value for r in Role if r is not Role.API],
        help="relay, sinks, pull or projections (repeatable); default: all four",
    )
    work.add_argument(
        "--nodes",
        metavar="CODE,...",
        help="run the sinks and pulls of these nodes only; default: every node",
    )
    work.add_argument(
        "--metrics-port",
        metavar="PORT",
        type=int,
        help="serve /healthz, /readyz and /metrics on this port (SP4N_HOST); default: "
        "SP4N_METRICS_PORT, else no HTTP",
    )
    sub.add_parser("demo", help="embedded PostgreSQL + demo data + the hub, no set-up needed")
    export = sub.add_parser(
        "export-schema",
        help="write the GraphQL SDL to schema/hub.graphql, the Federation subgraph's to "
        "schema/subgraph.graphql and the event stream's AsyncAPI document (default topic "
        "names) to schema/asyncapi.yaml",
    )
    export.add_argument("--check", action="store_true", help="fail if a file is out of date")
    replay = sub.add_parser(
        "replay",
        help="rebuild nodes from the state topic through their connectors (needs DATABASE_URL, "
        "KAFKA_BOOTSTRAP_SERVERS, SP4N_CONNECTORS=1)",
    )
    which = replay.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--node", metavar="CODE", choices=[n.code for n in NODES], help="the node to rebuild"
    )
    which.add_argument("--all", action="store_true", help="every node, one after another")
    replay.add_argument(
        "--reset",
        action="store_true",
        help="first forget what the hub believes the node holds (its system was wiped)",
    )
    sync = sub.add_parser(
        "sync", help="pull the nodes through their connectors into the index (needs DATABASE_URL)"
    )
    sync.add_argument(
        "--node",
        metavar="CODE",
        action="append",
        choices=[n.code for n in NODES],
        help="only this node (repeatable); default: every node that is pulled",
    )
    sync.add_argument("--once", action="store_true", help="one pull per node, then exit")
    clients = sub.add_parser("clients", help="OAuth2 clients of the nodes (needs DATABASE_URL)")
    clients_sub = clients.add_subparsers(dest="action", required=True)
    add = clients_sub.add_parser("add", help="register a client; prints its secret once")
    add.add_argument("client_id")
    add.add_argument("--node", choices=[n.code for n in NODES], help="the node it acts for")
    add.add_argument(
        "--scope",
        action="append",
        required=True,
        dest="scopes",
        help="node:<code>:write, node:<code>:read, province:admin or ministry:read (repeatable)",
    )
    clients_sub.add_parser("list", help="every client, revoked ones included")
    revoke = clients_sub.add_parser("revoke", help="refuse a client's tokens from now on")
    revoke.add_argument("client_id")
    documents = sub.add_parser(
        "documents", help="trusted GraphQL documents (SP4N_TRUSTED_DOCUMENTS; needs DATABASE_URL)"
    )
    documents_sub = documents.add_subparsers(dest="action", required=True)
    documents_sub.add_parser("add", help="register documents, each file one").add_argument(
        "files", nargs="+", type=Path, metavar="FILE"
    )
    documents_sub.add_parser("list", help="every registered document")
    keys = sub.add_parser("keys", help="token signing keys")
    keys.add_subparsers(dest="action", required=True).add_parser(
        "rotate", help="add a new signing key; older keys keep verifying until removed"
    )
    audit = sub.add_parser("audit", help="the hash-chained audit log (needs DATABASE_URL)")
    audit.add_subparsers(dest="action", required=True).add_parser(
        "verify", help="check that no entry was edited or deleted"
    )
    add_calendar_parser(sub)
    add_institutions_parser(sub)
    add_users_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = Settings.from_env(os.environ)
        if settings.log_json:
            use_json_lines()
        match args.command:
            case "migrate":
                asyncio.run(_migrate(wiring.database_url(settings)))
            case "serve":
                wiring.database_url(settings)
                roles = ALL_ROLES if args.all else frozenset({Role.API})
                asyncio.run(_serve(replace(settings, roles=roles)))
            case "worker":
                wiring.database_url(settings)
                if args.metrics_port is not None:
                    settings = replace(settings, metrics_port=args.metrics_port)
                return asyncio.run(_work(worker_settings(settings, args.role or [], args.nodes)))
            case "demo":
                demo(settings)
            case "export-schema":
                return export_schema(check=args.check)
            case "calendar":
                return asyncio.run(calendar_command(args, wiring.database_url(settings)))
            case "institutions":
                url = wiring.database_url(settings)
                return asyncio.run(institutions_command(args, url))
            case "users":
                return asyncio.run(users_command(args, wiring.database_url(settings), console))
            case "replay":
                codes = [n.code for n in NODES] if args.all else [args.node]
                return asyncio.run(_replay(settings, os.environ, codes, reset=args.reset))
            case "sync":
                return asyncio.run(_sync(settings, os.environ, args.node or [], once=args.once))
            case "clients":
                url = wiring.database_url(settings)
                if args.action == "add":
                    return asyncio.run(
                        admin.clients_add(console, url, args.client_id, args.node, args.scopes)
                    )
                if args.action == "list":
                    return asyncio.run(admin.clients_list(console, url))
                return asyncio.run(admin.clients_revoke(console, url, args.client_id))
            case "documents":
                url = wiring.database_url(settings)
                if args.action == "add":
                    return asyncio.run(admin.documents_add(console, url, args.files))
                return asyncio.run(admin.documents_list(console, url))
            case "keys":
                return admin.keys_rotate(console, settings.key_dir)
            case "audit":
                return asyncio.run(admin.audit_verify(console, wiring.database_url(settings)))
    except ConfigError as error:
        console.print(f"[red]configuration error:[/] {error.message}")
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


def asyncapi_text() -> str:
    """The event stream's AsyncAPI document on the default topics (no prefix)."""
    return render(Topics().layout())


def export_schema(*, check: bool) -> int:
    from hub.api.schema import sdl
    from hub.api.subgraph import subgraph_sdl

    stale = 0
    for path, text in (
        (SCHEMA_FILE, sdl()),
        (SUBGRAPH_FILE, subgraph_sdl()),
        (ASYNCAPI_FILE, asyncapi_text()),
    ):
        if not check:
            path.write_text(text, encoding="utf-8")
            console.print(f"wrote {path}")
        elif not path.exists() or path.read_text(encoding="utf-8") != text:
            console.print(f"[red]{path} is out of date:[/] run `sp4n-hub export-schema`")
            stale += 1
        else:
            console.print(f"{path} is up to date")
    return 1 if stale else 0
