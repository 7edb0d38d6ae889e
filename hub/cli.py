"""The ``sp4n-hub`` command: migrate, serve, demo, export-schema."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import uvicorn
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from hub.app import create_app
from hub.errors import ConfigError
from hub.settings import Secret, Settings, masked_url
from hub.store.database import Database

DEMO_REPORTS = 6_000
SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema" / "hub.graphql"

console = Console(stderr=True)


def _require_database(settings: Settings) -> str:
    if settings.database_url is None:
        raise ConfigError(
            "DATABASE_URL is not set; give a postgresql:// URL, or run `sp4n-hub demo` "
            "for an embedded PostgreSQL"
        )
    return settings.database_url.value


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
    from hub.seed import seed_reports, seeded_count

    db = Database(url, min_size=1, max_size=1)
    await db.open()
    try:
        async with db.pool.acquire() as conn:
            existing = await seeded_count(conn)
            if existing:
                console.print(f"reusing the demo data: {existing:,} reports")
                return
            with Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
            ) as bar:
                task = bar.add_task("seeding demo reports", total=count)
                await seed_reports(conn, count, progress=lambda n: bar.update(task, completed=n))
    finally:
        await db.close()


async def _serve(settings: Settings) -> None:
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        lifespan="on",
    )
    await uvicorn.Server(config).serve()


def _banner(settings: Settings, database: str) -> None:
    url = f"http://{settings.host}:{settings.port}/graphql"
    console.print(f"[bold green]sp4n-hub[/] GraphiQL: [link={url}]{url}[/link]")
    console.print(f"  database: {masked_url(database)}")
    console.print("  auth: none yet; every caller acts as the province admin (node 16)")
    console.print("  press Ctrl-C to stop")


def demo(settings: Settings) -> None:
    """Embedded PostgreSQL, migrations, demo data, then the hub; Ctrl-C stops all."""
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
        _banner(running, url)
        asyncio.run(_serve(running))
    finally:
        if server is not None:
            console.print("stopping embedded PostgreSQL …")
            server.stop()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sp4n-hub", description="The SP4N-LAPOR! federation hub of South Sumatra."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply the database migrations (needs DATABASE_URL)")
    sub.add_parser("serve", help="serve the hub against DATABASE_URL")
    sub.add_parser("demo", help="embedded PostgreSQL + demo data + the hub, no set-up needed")
    export = sub.add_parser("export-schema", help="write the GraphQL SDL to schema/hub.graphql")
    export.add_argument("--check", action="store_true", help="fail if the file is out of date")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = Settings.from_env(os.environ)
        match args.command:
            case "migrate":
                asyncio.run(_migrate(_require_database(settings)))
            case "serve":
                _require_database(settings)
                asyncio.run(_serve(settings))
            case "demo":
                demo(settings)
            case "export-schema":
                return export_schema(check=args.check)
    except ConfigError as error:
        console.print(f"[red]configuration error:[/] {error.message}")
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


def export_schema(*, check: bool) -> int:
    from hub.api.schema import sdl

    text = sdl()
    if check:
        if not SCHEMA_FILE.exists() or SCHEMA_FILE.read_text(encoding="utf-8") != text:
            console.print(f"[red]{SCHEMA_FILE} is out of date:[/] run `sp4n-hub export-schema`")
            return 1
        console.print(f"{SCHEMA_FILE} is up to date")
        return 0
    SCHEMA_FILE.write_text(text, encoding="utf-8")
    console.print(f"wrote {SCHEMA_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
