"""``/open311/v2/``: Open311 GeoReport v2 served by the hub.

``discovery``, ``services``, ``services/{code}``, ``requests`` (GET and POST),
``requests/{id}`` and ``tokens/{token}``, each as ``.xml`` or ``.json``. Reading is
open to anyone and shows what the caller may see (``Viewer``: the public gets no
confidential report); the caller is the bearer token of the ``Authorization``
header, or an ``api_key`` parameter. Submitting needs an ``api_key`` (an OAuth2
client's ``client_id:client_secret``, or its bearer token) of a client that may
change reports (a ``node:<code>:write`` service account, or the province's admins),
and goes through the one write path (``ReportService``), audited and published like
a GraphQL ``submitReport``. The answer holds the new ``service_request_id`` at once,
so the hub issues no tokens.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hub.domain.commands import Actor
from hub.domain.service import ReportService
from hub.errors import BadInput, Forbidden, HubError, NotFound
from hub.ministry.deadlines import load_deadlines
from hub.open311 import service_requests as requests
from hub.open311 import services
from hub.open311.formats import Format, Open311Error, error, format_of, render
from hub.security.clients import ClientStore
from hub.security.middleware import bearer_principal
from hub.security.privacy import Viewer
from hub.security.scopes import Principal
from hub.security.tokens import TokenError, Tokens
from hub.store.database import Database
from hub.store.rows import ReportRow
from schema.calendar import wib_date
from schema.nodes import NODES, NodeLevel

PREFIX = "/open311/v2"
_HOME_REGION = {n.code: n.region_code for n in NODES if n.level is NodeLevel.REGENCY}
"""A regency's node submits for its own region unless told otherwise; the province's
and the national node serve many, so they must name one."""
_STATUS = {BadInput.code: 400, NotFound.code: 404, Forbidden.code: 403}
_MAX_FIELDS = 64

Handler = Callable[[Request, Format], Awaitable[Response]]


def _now() -> datetime:
    return datetime.now(UTC)


def _answered(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Runs a handler in the format its path asks for; refusals in the spec's shape."""

    async def endpoint(request: Request) -> Response:
        fmt = Format.XML
        try:
            fmt = format_of(request.path_params["fmt"])
            return await handler(request, fmt)
        except Open311Error as failure:
            return error(fmt, failure)
        except HubError as failure:
            if failure.code not in _STATUS:
                raise
            return error(fmt, Open311Error(_STATUS[failure.code], failure.message))

    return endpoint


class Open311Endpoint:
    """The GeoReport v2 methods over the index and the write path."""

    def __init__(
        self,
        db: Database,
        service: ReportService,
        tokens: Tokens,
        clients: ClientStore,
        actor_for: Callable[[Principal], Actor | None],
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._db = db
        self._service = service
        self._tokens = tokens
        self._clients = clients
        self._actor_for = actor_for
        self._clock = clock

    async def _caller(self, request: Request, api_key: str | None) -> Principal:
        """Who calls: the client an ``api_key`` names, else the bearer token's (or the
        public); 401 for a key that names no active client."""
        if not api_key:
            principal: Principal = request.state.principal
            return principal
        client_id, colon, secret = api_key.partition(":")
        if colon:  # a bearer token (a JWT) holds no colon
            client = await self._clients.authenticate(client_id, secret)
            if client is None:
                raise Open311Error(401, "api_key: unknown client, wrong secret or revoked")
            return Principal(client.client_id, client.node_code, client.scopes)
        try:
            return await bearer_principal(f"Bearer {api_key}", self._tokens, self._clients.active)
        except TokenError as refused:
            raise Open311Error(401, f"api_key: {refused.reason}") from None

    async def discovery(self, request: Request, fmt: Format) -> Response:
        url = str(request.base_url).rstrip("/") + PREFIX
        return render(fmt, "discovery", services.discovery(url))

    async def services(self, request: Request, fmt: Format) -> Response:
        requests.jurisdiction(request.query_params.get("jurisdiction_id"))
        return render(fmt, "services", services.services())

    async def service(self, request: Request, fmt: Format) -> Response:
        requests.jurisdiction(request.query_params.get("jurisdiction_id"))
        topic = services.SERVICES[str(requests.topic_of(request.path_params["code"]))]
        return render(fmt, "service_definition", services.definition(topic))

    async def _answer(self, fmt: Format, rows: list[ReportRow]) -> Response:
        today = wib_date(self._clock())
        deadlines = await load_deadlines(self._db, [r.id for r in rows], today)
        body = [requests.as_request(r, d) for r, d in zip(rows, deadlines, strict=True)]
        return render(fmt, "service_requests", body)

    async def requests(self, request: Request, fmt: Format) -> Response:
        query = request.query_params
        viewer = Viewer.of(await self._caller(request, query.get("api_key")))
        wanted = requests.request_filter(query, self._clock())
        found = await self._db.fetch("open311_requests", *wanted.params(viewer))
        rows = [ReportRow.from_record(r) for r in found]
        # The query leaves out what the viewer may not see; the rule itself is Viewer's.
        return await self._answer(
            fmt, [r for r in rows if viewer.may_see_report(r.confidential, r.nodes)]
        )

    async def request(self, request: Request, fmt: Format) -> Response:
        viewer = Viewer.of(await self._caller(request, request.query_params.get("api_key")))
        given = request.path_params["id"]
        try:
            report_id = uuid.UUID(given)
        except ValueError:
            raise Open311Error(404, f"service_request_id {given!r} not found") from None
        record = await self._db.fetchrow("report_by_id", report_id)
        row = ReportRow.from_record(record) if record is not None else None
        # A report the caller may not see is answered exactly as an unknown one.
        if row is None or not viewer.may_see_report(row.confidential, row.nodes):
            raise Open311Error(404, f"service_request_id {given!r} not found")
        return await self._answer(fmt, [row])

    async def submit(self, request: Request, fmt: Format) -> Response:
        form = await _form(request)
        principal = await self._caller(request, form.get("api_key"))
        if principal.is_public:
            raise Open311Error(401, "api_key is required to submit a request")
        actor = self._actor_for(principal)
        if actor is None:
            raise Open311Error(
                403, "this api_key may not submit: it needs a node:<code>:write scope"
            )
        region = requests.jurisdiction(form.get("jurisdiction_id")) or (
            None if actor.everywhere else _HOME_REGION.get(actor.node_code)
        )
        if region is None:
            raise Open311Error(
                400, f"jurisdiction_id is required: node {actor.node_code} serves more than "
                "one region; give its Kemendagri code, such as 16.71",
            )  # fmt: skip
        command = requests.submission(form, region)
        row = await self._service.execute(
            command, actor, idempotency_key=request.headers.get("idempotency-key")
        )
        notice = f"Laporan diterima: {row.state.label}; ikuti di {PREFIX}/requests/{row.id}"
        body = [{"service_request_id": str(row.id), "service_notice": notice, "account_id": None}]
        return render(fmt, "service_requests", body)

    async def token(self, request: Request, fmt: Format) -> Response:
        raise Open311Error(
            404, "no such token: this endpoint answers POST requests with the "
            "service_request_id itself and issues no tokens",
        )  # fmt: skip

    def routes(self) -> list[Route]:
        def at(path: str, handler: Handler, method: str = "GET") -> Route:
            return Route(f"{PREFIX}/{path}.{{fmt}}", _answered(handler), methods=[method])

        return [
            at("discovery", self.discovery),
            at("services", self.services),
            at("services/{code}", self.service),
            at("requests", self.requests),
            at("requests", self.submit, "POST"),
            at("requests/{id}", self.request),
            at("tokens/{token}", self.token),
        ]


async def _form(request: Request) -> dict[str, str]:
    """A form-encoded body (the spec's), first value of each field."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        raise Open311Error(400, "send the request as application/x-www-form-urlencoded")
    raw = await request.body()
    try:
        parsed = parse_qs(raw.decode(), keep_blank_values=True, max_num_fields=_MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise Open311Error(400, "the form cannot be read (UTF-8, at most 64 fields)") from None
    return {name: values[0] for name, values in parsed.items()}
