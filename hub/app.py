"""The composition root: ``create_app(settings)`` builds the whole hub."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from typing import Any

import strawberry
from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from connectors.config import NodeTable
from connectors.federation import Federation
from hub import metrics, wiring
from hub.api.cached_http import CachedHttp, Operation, operation_of
from hub.api.context import Context
from hub.api.documents import DocumentsOverWebSocket, PersistedDocuments, carry_document
from hub.api.graphiql.page import GraphiQLPage
from hub.api.loaders import Loaders
from hub.api.media import response_media
from hub.api.schema import build_schema
from hub.api.subgraph import build_subgraph_schema
from hub.dashboard.pages import Dashboard
from hub.domain.commands import Actor
from hub.domain.duplicates import Duplicates
from hub.domain.institutions import InstitutionDirectory
from hub.domain.ratings import Ratings
from hub.domain.review import ReviewDesk
from hub.domain.service import ReportService
from hub.errors import HubError, Unavailable
from hub.logs import RequestIds, throttle_library_logs
from hub.ministry.autoclose import AutoCloser
from hub.ministry.context import MinistryRequest
from hub.ministry.export import ministry_routes
from hub.open311.routes import Open311Endpoint
from hub.probes import Probes
from hub.security.audit import AuditLog, AuditSealer
from hub.security.clients import ClientStore
from hub.security.credentials import Passwords
from hub.security.endpoint import token_endpoint
from hub.security.login.page import LoginPages
from hub.security.logins import Logins, Throttle
from hub.security.middleware import (
    Authenticate,
    BodyLimit,
    OutageIs503,
    RateLimit,
    StatusFromGraphQL,
    bearer_principal,
)
from hub.security.privacy import Viewer
from hub.security.scopes import MINISTRY_READ, Principal
from hub.security.sessions import CookiePolicy, SessionCookie, SessionStore, is_loopback
from hub.security.tokens import TokenError, Tokens
from hub.settings import Role, Settings
from hub.store.database import Database
from hub.sync.bus import Topics
from hub.sync.sink import Sink
from hub.sync.supervisor import SyncSupervisor
from schema.asyncapi import render
from schema.regions import PROVINCE_CODE
from schema.report import ActorRole

_log = logging.getLogger(__name__)


def actor_for(principal: Principal) -> Actor | None:
    """The actor a caller's mutations run as, or None when it may not change reports."""
    if principal.client_id is None:
        return None
    if principal.is_admin:
        home = principal.node_code or PROVINCE_CODE
        return Actor(home, ActorRole.INSTITUTION_ADMIN, principal.client_id, everywhere=True)
    node = principal.node_code
    if node is None or node not in principal.nodes("write"):
        return None
    # A node-scoped client is that node's service account: its own system speaking.
    return Actor(node, ActorRole.NODE_SYSTEM, principal.client_id)


_PLAIN_ACK: UnsetType = UNSET
"""``connection_ack`` without a payload."""


class HubGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI app with the hub's typed context."""

    graphql_transport_ws_handler_class = DocumentsOverWebSocket

    def __init__(
        self,
        db: Database,
        service: ReportService,
        settings: Settings,
        sync: SyncSupervisor | None,
        audit: AuditLog,
        federation: Federation | None = None,
        *,
        review: ReviewDesk,
        duplicates: Duplicates,
        ratings: Ratings,
        institutions: InstitutionDirectory,
        tokens: Tokens,
        is_active: Callable[[str], Awaitable[bool]],
        documents: PersistedDocuments,
        cache: CachedHttp | None = None,
        schema: strawberry.Schema | None = None,
    ) -> None:
        """``schema``: another schema of the hub's than its own (the subgraph's), served
        without GraphiQL."""
        self.ide = GraphiQLPage() if settings.graphiql and schema is None else None
        super().__init__(
            schema or build_schema(settings.limits, production=settings.production),
            graphql_ide="graphiql" if self.ide is not None else None,
            allow_queries_via_get=True,
            # Operations over a WebSocket pass the documents check too: the hub speaks
            # graphql-transport-ws through DocumentsOverWebSocket, and with trusted
            # documents nothing else (the legacy graphql-ws protocol runs unchecked).
            subscription_protocols=(
                (GRAPHQL_TRANSPORT_WS_PROTOCOL,)
                if documents.trusted_only
                else (GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL)
            ),
        )
        self.cache = cache
        self.documents = documents
        self._db = db
        self._service = service
        self._settings = settings
        self._sync = sync
        self._audit = audit
        self._federation = federation
        self._review = review
        self._duplicates = duplicates
        self._ratings = ratings
        self._institutions = institutions
        self._tokens = tokens
        self._is_active = is_active

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        media = response_media(request.headers.get("accept"))
        operation = await operation_of(request)
        if operation is None and self.documents.trusted_only and not self._asks_for_ide(request):
            # Whatever the hub cannot read as an operation, it cannot check either.
            operation = Operation(query="", variables=None, operation_name=None)
        if operation is not None:
            try:
                resolved = await self.documents.resolve(operation)
            except HubError as error:
                # Refused before execution, as the caller's media type frames it.
                request.state.media, request.state.refused = media, True
                refusal = {"message": error.message, "extensions": error.extensions}
                await JSONResponse({"errors": [refusal]})(scope, receive, send)
                return
            if resolved is not operation:
                carry_document(request, resolved)
                operation = resolved
        contexts: list[Context] = []

        async def execute() -> Response:
            context = await self.get_context(request, Response())
            contexts.append(context)
            try:
                return await self.run(request, context=context)
            except HTTPException as error:
                return PlainTextResponse(error.reason, status_code=error.status_code)

        if self.cache is None or operation is None:
            response = await execute()
        else:
            response = await self.cache.answer(
                request,
                operation,
                Viewer.of(request.state.principal),
                media,
                execute,
                lambda: contexts[0].reads,
            )
        await response(scope, receive, send)

    def _asks_for_ide(self, request: Request) -> bool:
        return self.should_render_graphql_ide(self.request_adapter_class(request))

    async def render_graphql_ide(self, request: Request) -> Response:
        # The hub's own copy of GraphiQL: strawberry's page loads it from a CDN,
        # which a data centre without internet never reaches.
        assert self.ide is not None  # asked only when graphql_ide is set
        return self.ide.response()

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        # Set by the Authenticate middleware, which has refused bad tokens already.
        principal: Principal = request.state.principal
        return Context(
            db=self._db,
            service=self._service,
            settings=self._settings,
            actor=actor_for(principal),
            loaders=Loaders(self._db, self._federation),
            sync=self._sync,
            principal=principal,
            audit=self._audit,
            ministry=self._ministry_for(principal),
            federation=self._federation,
            review=self._review,
            duplicates=self._duplicates,
            ratings=self._ratings,
            institutions=self._institutions,
        )

    def _ministry_for(self, principal: Principal) -> MinistryRequest:
        return MinistryRequest(
            self._db, self._settings.ministry, may_read=may_read_figures(principal)
        )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Browsers cannot set a WebSocket's headers: graphql-ws clients send the token in
        ``connection_init``'s payload (``{"Authorization": "Bearer …"}``) instead, and it is
        checked exactly as the header is. A refusal closes the socket with 4403."""
        params = context.connection_params or {}
        given = [v for k, v in params.items() if k.lower() == "authorization"]
        if not given:
            return _PLAIN_ACK
        if not isinstance(given[0], str):
            raise ConnectionRejectionError({"reason": "Authorization must be a string"})
        try:
            principal = await bearer_principal(given[0], self._tokens, self._is_active)
        except TokenError as error:
            raise ConnectionRejectionError({"reason": error.reason}) from None
        if context.principal.client_id not in (None, principal.client_id):
            reason = "the Authorization header and connection_init name different clients"
            raise ConnectionRejectionError({"reason": reason})
        # The connection's one context, made at the upgrade, now speaks for this caller.
        context.principal = principal
        context.actor = actor_for(principal)
        context.ministry = self._ministry_for(principal)
        return _PLAIN_ACK

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        # StatusFromGraphQL frames the answer: its media type and status code.
        media = response_media(request.headers.get("accept"))
        request.state.media = media
        # Data and no error: an answer the response cache may keep.
        request.state.complete = result.data is not None and not result.errors
        processed = await super().process_result(request, result)
        # An operation refused before execution (parse errors, validation, variables,
        # limits) answers 400 where the caller's media type allows, so abusive
        # requests are plainly 4xx. Execution errors carry a path; these do not.
        if result.data is None and result.errors and all(e.path is None for e in result.errors):
            request.state.refused = True
            if not media.data_when_refused:
                processed.pop("data", None)
        # The database failed under the operation and no field of it succeeded: say when
        # to retry. (An operation of several mutations some of which went through answers
        # as usual, so that a client does not retry those blindly.)
        unavailable = any(
            (e.extensions or {}).get("code") == Unavailable.code for e in result.errors or ()
        )
        if unavailable and not any(v is not None for v in (result.data or {}).values()):
            request.state.retry_after = Unavailable.retry_after_seconds
        return processed


def may_read_figures(principal: Principal) -> bool:
    """The ministry's figures and exports: its analysts and the province's admins."""
    return principal.is_admin or MINISTRY_READ in principal.scopes


@functools.cache
def _asyncapi_yaml(topics: Topics) -> str:
    return render(topics.layout())


async def _stop_task(task: asyncio.Task[None], stop: asyncio.Event, grace: float = 15) -> None:
    """Asks a loop to stop, and cancels it if it has not within ``grace`` seconds."""
    stop.set()
    try:
        await asyncio.wait_for(task, grace)
    except TimeoutError:
        _log.warning("%s did not stop within %ss", task.get_name(), grace)


def create_app(
    settings: Settings,
    *,
    env: Mapping[str, str] | None = None,
    node_table: NodeTable | None = None,
    sinks: Sequence[Sink] | None = None,
) -> Starlette:
    """Builds the hub; resources open in the lifespan and close in reverse order.

    With ``settings.connectors`` the nodes are served through their connectors:
    ``node_table`` if given, else the table file of the settings, whose
    ``${NAME}`` placeholders and credentials are read from ``env`` (default: the
    process environment). Everything but the HTTP surface is built by
    ``hub.wiring``; ``sinks`` replaces the node sinks there (tests' doubles).
    """
    throttle_library_logs()
    tracing = wiring.tracing(settings)
    built = wiring.components(settings, env=env, node_table=node_table, sinks=sinks)
    db, audit, service = built.db, built.audit, built.service
    federation, ingest, sync = built.federation, built.ingest, built.sync
    projection, cache, feed = built.projection, built.cache, built.feed
    tokens = wiring.tokens(settings)
    clients = ClientStore(db)
    # People's sessions (the dashboard's users); their requests act as a Principal too.
    sessions = SessionStore(db, settings.auth.session_seconds)
    throttle = Throttle(
        settings.auth.throttle_after,
        settings.auth.throttle_source_after,
        settings.auth.throttle_first_seconds,
        settings.auth.throttle_longest_seconds,
    )
    login_pages = LoginPages(
        Logins(db, audit, Passwords(), sessions, throttle),
        CookiePolicy(secure=not is_loopback(settings.host), max_age=settings.auth.session_seconds),
    )
    documents = PersistedDocuments(
        db, trusted_only=settings.trusted_documents, max_tokens=settings.limits.max_tokens
    )

    def graphql_app(schema: strawberry.Schema | None = None) -> HubGraphQL:
        return HubGraphQL(
            db,
            service,
            settings,
            sync,
            audit,
            federation,
            review=built.review,
            duplicates=built.duplicates,
            ratings=built.ratings,
            institutions=built.institutions,
            tokens=tokens,
            is_active=clients.active,
            documents=documents,
            schema=schema,
        )

    graphql = graphql_app()
    # The subgraph answers a gateway's operations uncached: they are the plan's pieces
    # (``_entities`` batches), not documents a client sends again.
    subgraph = (
        graphql_app(build_subgraph_schema(settings.limits, production=settings.production))
        if settings.subgraph
        else None
    )
    if cache is not None and feed is not None:
        assert isinstance(graphql.schema, strawberry.Schema)
        # graphql-core's schema, which the cache checks a document's fields against.
        graphql.cache = CachedHttp(cache, feed, graphql.schema._schema, settings.limits.max_tokens)
    sealer = AuditSealer(audit)
    auto_closer = AutoCloser(db, service, settings.ministry, projection=projection)
    retention = built.retention
    collector = metrics.HubCollector(db, sync, cache, retention, federation)
    probes = Probes(
        db, settings.database_url.value if settings.database_url else "", sync, collector
    )
    roles = settings.roles

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        tracing.start()  # before the connectors open their HTTP sessions
        try:
            await db.open()
        except BaseException:
            await asyncio.to_thread(tracing.stop)
            raise
        try:
            applied = await db.migrate()
            if applied:
                _log.info("database migrated to version %d", applied[-1].version)
            async with contextlib.AsyncExitStack() as stack:
                # The process's roles say which loops run here (Settings.roles).

                def loop(
                    name: str, run: Callable[[asyncio.Event], Coroutine[Any, Any, None]]
                ) -> None:
                    stop = asyncio.Event()
                    task = asyncio.create_task(run(stop), name=name)
                    stack.push_async_callback(_stop_task, task, stop)

                if Role.PROJECTIONS in roles:
                    # The sealer starts first and so stops last: it seals what the
                    # other loops' last passes wrote.
                    loop("audit sealer", sealer.run)
                    loop("ministry projection", projection.run)
                if feed is not None:
                    loop("cache feed", feed.run)
                if federation is not None:
                    await federation.start()
                    stack.push_async_callback(federation.stop)
                if sync is not None:
                    await sync.start()
                    stack.push_async_callback(sync.stop)
                if ingest is not None:
                    stack.push_async_callback(ingest.close)  # runs after the pulls stop
                    loop("pulls", ingest.run)
                if Role.PROJECTIONS in roles:
                    loop("auto-close", auto_closer.run)
                    loop("retention", retention.run)
                yield
        finally:
            await db.close()
            # Off the event loop: the last export waits for the collector's answer.
            await asyncio.to_thread(tracing.stop)

    async def asyncapi_endpoint(request: Request) -> Response:
        # The event stream on this hub's topics (its prefix, its partitions); holds no
        # data, so anyone may read it. Built once per process, off the event loop.
        text = await asyncio.to_thread(_asyncapi_yaml, wiring.topics(settings))
        return Response(text, media_type="application/yaml")

    limits = settings.limits
    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/oauth/token", token_endpoint(clients, tokens), methods=["POST"]),
            *probes.routes(),
            Route("/asyncapi.yaml", asyncapi_endpoint),
            *([Route("/subgraph", subgraph, methods=["GET", "POST"])] if subgraph else []),
            *login_pages.routes(),
            *([graphql.ide.route()] if graphql.ide is not None else []),
            *ministry_routes(
                db,
                settings.ministry,
                authorize=lambda request: may_read_figures(request.state.principal),
            ),
            *Open311Endpoint(db, service, tokens, clients, actor_for).routes(),
            *Dashboard(db, settings.ministry, may_read_figures).routes(),
        ],
        middleware=[
            *tracing.middleware(),
            Middleware(RequestIds),
            Middleware(BodyLimit, max_bytes=limits.max_body_bytes),
            Middleware(OutageIs503),
            Middleware(Authenticate, tokens=tokens, is_active=clients.active),
            Middleware(SessionCookie, sessions=sessions),
            Middleware(RateLimit, per_second=limits.requests_per_second, burst=limits.burst),
            Middleware(StatusFromGraphQL),
        ],
        lifespan=lifespan,
    )
    app.state.database = db
    app.state.service = service
    app.state.sync = sync
    app.state.federation = federation
    app.state.ingest = ingest
    app.state.tokens = tokens
    app.state.clients = clients
    app.state.sessions = sessions
    app.state.audit = audit
    app.state.projection = projection
    app.state.cache = cache
    app.state.cache_feed = feed
    app.state.auto_closer = auto_closer
    app.state.retention = retention
    app.state.tracing = tracing
    app.state.probes = probes
    return app
