"""The composition root: ``create_app(settings)`` builds the whole hub."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from hub import metrics
from hub.api.context import Context
from hub.api.loaders import Loaders
from hub.api.schema import build_schema
from hub.domain.commands import Actor
from hub.domain.service import ReportService
from hub.errors import ConfigError
from hub.settings import Settings, SyncMode
from hub.store.database import Database
from hub.sync.bus import Bus, Topics
from hub.sync.kafka import KafkaBus
from hub.sync.memory import MemoryBus
from hub.sync.recording import RecordingSink
from hub.sync.service import SyncService
from schema.nodes import NODES
from schema.regions import PROVINCE_CODE
from schema.report import ActorRole

_log = logging.getLogger(__name__)

# Until client credentials arrive (the security issue), every caller acts as the
# province's admin. The actor is resolved in one place so that change is local.
DEVELOPMENT_ACTOR = Actor(PROVINCE_CODE, ActorRole.INSTITUTION_ADMIN)


class HubGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI app with the hub's typed context."""

    def __init__(
        self, db: Database, service: ReportService, settings: Settings, sync: SyncService | None
    ) -> None:
        super().__init__(
            build_schema(),
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=True,
        )
        self._db = db
        self._service = service
        self._settings = settings
        self._sync = sync

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        return Context(
            db=self._db,
            service=self._service,
            settings=self._settings,
            actor=DEVELOPMENT_ACTOR,
            loaders=Loaders(self._db),
            sync=self._sync,
        )


def _bus(settings: Settings) -> Bus:
    topics = Topics(prefix=settings.kafka_topic_prefix, partitions=settings.kafka_partitions)
    if settings.sync is SyncMode.KAFKA:
        assert settings.kafka_bootstrap_servers is not None
        return KafkaBus(settings.kafka_bootstrap_servers, topics)
    return MemoryBus(topics)


def _stop_process(error: BaseException) -> None:
    """A dead sync loop must not go unnoticed: stop, and let the supervisor restart us."""
    del error
    os.kill(os.getpid(), signal.SIGTERM)


def create_app(settings: Settings) -> Starlette:
    """Builds the hub; resources open in the lifespan and close in reverse order."""
    if settings.database_url is None:
        raise ConfigError("DATABASE_URL is not set (the demo command starts an embedded one)")
    db = Database(
        settings.database_url.value,
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
    )
    service = ReportService(db)
    sync = None
    if settings.sync is not SyncMode.OFF:
        # Until the connectors arrive, each node's sink records what it receives.
        sinks = [RecordingSink(node.code) for node in NODES]
        on_failure = _stop_process if settings.exit_on_sync_failure else None
        sync = SyncService(db, _bus(settings), sinks, on_failure=on_failure)
    graphql = HubGraphQL(db, service, settings, sync)
    collector = metrics.HubCollector(db, sync)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await db.open()
        try:
            applied = await db.migrate()
            if applied:
                _log.info("database migrated to version %d", applied[-1].version)
            if sync is not None:
                await sync.start()
            try:
                yield
            finally:
                if sync is not None:
                    await sync.stop()
        finally:
            await db.close()

    async def healthz(request: Request) -> Response:
        if sync is not None and sync.failure is not None:
            return PlainTextResponse(f"sync failed: {sync.failure}", status_code=503)
        return PlainTextResponse("ok")

    async def readyz(request: Request) -> Response:
        try:
            await db.fetchval("ready")
        except Exception as error:  # any failure means "not ready"; the reason is logged
            _log.warning("not ready: %s", error)
            return JSONResponse({"ready": False, "database": "unreachable"}, status_code=503)
        return JSONResponse({"ready": True, "database": "ok"})

    async def metrics_endpoint(request: Request) -> Response:
        return Response(metrics.render(collector), media_type="text/plain; version=0.0.4")

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint),
        ],
        lifespan=lifespan,
    )
    app.state.database = db
    app.state.service = service
    app.state.sync = sync
    return app
