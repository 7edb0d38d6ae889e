"""The composition root: ``create_app(settings)`` builds the whole hub."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from hub.api.context import Context
from hub.api.loaders import Loaders
from hub.api.schema import build_schema
from hub.domain.commands import Actor
from hub.domain.service import ReportService
from hub.errors import ConfigError
from hub.settings import Settings
from hub.store.database import Database
from schema.regions import PROVINCE_CODE
from schema.report import ActorRole

_log = logging.getLogger(__name__)

# Until client credentials arrive (the security issue), every caller acts as the
# province's admin. The actor is resolved in one place so that change is local.
DEVELOPMENT_ACTOR = Actor(PROVINCE_CODE, ActorRole.INSTITUTION_ADMIN)


class HubGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI app with the hub's typed context."""

    def __init__(self, db: Database, service: ReportService, settings: Settings) -> None:
        super().__init__(
            build_schema(),
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=True,
        )
        self._db = db
        self._service = service
        self._settings = settings

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        return Context(
            db=self._db,
            service=self._service,
            settings=self._settings,
            actor=DEVELOPMENT_ACTOR,
            loaders=Loaders(self._db),
        )


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
    graphql = HubGraphQL(db, service, settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await db.open()
        try:
            applied = await db.migrate()
            if applied:
                _log.info("database migrated to version %d", applied[-1].version)
            yield
        finally:
            await db.close()

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def readyz(request: Request) -> Response:
        try:
            await db.fetchval("ready")
        except Exception as error:  # any failure means "not ready"; the reason is logged
            _log.warning("not ready: %s", error)
            return JSONResponse({"ready": False, "database": "unreachable"}, status_code=503)
        return JSONResponse({"ready": True, "database": "ok"})

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ],
        lifespan=lifespan,
    )
    app.state.database = db
    app.state.service = service
    return app
