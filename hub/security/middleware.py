"""Pure ASGI middleware for the GraphQL endpoint: body size, who is calling, how often,
and the status codes and media types of refusals, outages and GraphQL answers.

Each refuses before the request reaches GraphQL, so no resolver and no SQL runs
for a refused call.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.api.media import ResponseMedia, response_media
from hub.errors import Unavailable, pesan
from hub.outages import Outage, database_unavailable, is_outage
from hub.security.scopes import PUBLIC, Principal
from hub.security.tokens import TokenError, Tokens

_log = logging.getLogger(__name__)


def _media(scope: Scope) -> ResponseMedia:
    return response_media(Headers(scope=scope).get("accept"))


async def _reply(
    scope: Scope,
    send: Send,
    status: int,
    message: str,
    code: str,
    headers: list[tuple[bytes, bytes]],
    *,
    retryable: bool = False,
) -> None:
    """A GraphQL-shaped refusal, in the media type the caller accepts."""
    extensions: dict[str, object] = {"code": code, **pesan(code)}
    if retryable:
        extensions["retryable"] = True
    body = json.dumps({"errors": [{"message": message, "extensions": extensions}]}).encode()
    content_type = _media(scope).content_type.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuses request bodies over ``max_bytes`` with 413, declared or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _reply(
                scope, send, 413, f"request body over {self.max_bytes} bytes", "TOO_LARGE", []
            )
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await _reply(
                scope, send, 413, f"request body over {self.max_bytes} bytes", "TOO_LARGE", []
            )


class _TooLarge(Exception):
    pass


class Authenticate:
    """Puts the caller's Principal in ``scope["state"]``; a bad token gets 401 here."""

    def __init__(
        self, app: ASGIApp, tokens: Tokens, is_active: Callable[[str], Awaitable[bool]]
    ) -> None:
        self.app = app
        self.tokens = tokens
        self.is_active = is_active

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        header = dict(scope["headers"]).get(b"authorization")
        # The token endpoint authenticates clients itself (HTTP Basic or form).
        if header is None or scope["path"] == "/oauth/token":
            state["principal"] = PUBLIC
            await self.app(scope, receive, send)
            return
        try:
            principal = await bearer_principal(
                header.decode("latin-1"), self.tokens, self.is_active
            )
        except TokenError as error:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 4401, "reason": error.reason})
                return
            challenge = f'Bearer error="invalid_token", error_description="{error.reason}"'
            await _reply(
                scope,
                send,
                401,
                error.reason,
                "UNAUTHENTICATED",
                [(b"www-authenticate", challenge.encode())],
            )
            return
        except Exception as error:
            # HTTP requests get their 503 from OutageIs503; a WebSocket is told here
            # (1013: try again later), as no HTTP answer can be sent on it any more.
            if scope["type"] != "websocket" or not is_outage(error):
                raise
            await send({"type": "websocket.close", "code": 1013, "reason": "try again later"})
            return
        state["principal"] = principal
        await self.app(scope, receive, send)


async def bearer_principal(
    authorization: str, tokens: Tokens, is_active: Callable[[str], Awaitable[bool]]
) -> Principal:
    """The caller an ``Authorization`` value names (from an HTTP header or a WebSocket's
    ``connection_init`` payload); TokenError with a reason to show if it must be refused."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenError("use the Authorization: Bearer <token> scheme")
    principal = tokens.verify(token.strip())
    assert principal.client_id is not None
    if not await is_active(principal.client_id):
        raise TokenError("the client has been revoked")
    return principal


@dataclass(slots=True)
class _Bucket:
    tokens: float
    stamp: float


@dataclass(slots=True)
class RateLimit:
    """A token bucket per client (per address for the public): 429 with Retry-After.

    The buckets live in this process: behind a load balancer each API replica
    counts its own (the README's "Operating the hub" says so)."""

    app: ASGIApp
    per_second: float
    burst: int
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        principal = scope.get("state", {}).get("principal", PUBLIC)
        client = scope.get("client")
        who = principal.client_id or f"ip:{client[0] if client else '?'}"
        now = time.monotonic()
        bucket = self._buckets.setdefault(who, _Bucket(float(self.burst), now))
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.per_second)
        bucket.stamp = now
        if bucket.tokens < 1:
            wait = math.ceil((1 - bucket.tokens) / self.per_second)
            await _reply(
                scope,
                send,
                429,
                f"rate limit: {self.per_second:g} requests/s",
                "RATE_LIMITED",
                [(b"retry-after", str(wait).encode())],
            )
            return
        bucket.tokens -= 1
        await self.app(scope, receive, send)


class StatusFromGraphQL:
    """Sets the HTTP status and media type GraphQL's answer calls for: 503 with
    ``Retry-After`` for an operation the database was unavailable for; for one refused
    before executing it, 400 or 200 as the caller's media type wants (``hub.api.media``).

    The GraphQL view marks its answers in ``scope["state"]`` (``media``, ``refused``,
    ``retry_after``); status codes are HTTP's business, so the rewrite happens here.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_status(message: Message) -> None:
            state = scope.get("state", {})
            media: ResponseMedia | None = state.get("media")
            if message["type"] == "http.response.start" and media is not None:
                headers = list(message.get("headers", []))
                # A JSON answer of GraphQL's; streamed (multipart) ones keep their type.
                if (b"content-type", b"application/json") in headers:
                    headers.remove((b"content-type", b"application/json"))
                    headers.append((b"content-type", media.content_type.encode()))
                status = message["status"]
                if state.get("retry_after") is not None:
                    headers.append((b"retry-after", str(state["retry_after"]).encode()))
                    status = 503
                elif state.get("refused"):
                    status = media.refused_status
                message = {**message, "status": status, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_status)


class OutageIs503:
    """Answers a coded 503 for any request the database failed under, wherever it failed
    (the client lookup, the token endpoint, an export), instead of a bare 500.

    It also logs the outage as requests see it: a line when it starts, one now and
    then while it lasts (not one per request), and one when a request succeeds again.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._outage = Outage(
            "requests: PostgreSQL", logger=_log, meanwhile="answering 503 with Retry-After"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        status = 0

        async def watched(message: Message) -> None:
            nonlocal started, status
            if message["type"] == "http.response.start":
                started, status = True, message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as error:
            if started or not is_outage(error):
                raise
            self._outage.failed(error)
            coded = database_unavailable(error)
            await _reply(
                scope,
                send,
                503,
                coded.message,
                coded.code,
                [(b"retry-after", str(coded.retry_after_seconds).encode())],
                retryable=True,
            )
            return
        if scope.get("state", {}).get("retry_after") is not None:
            self._outage.failed(Unavailable("a GraphQL operation met the outage"))
        elif started and status < 500:
            self._outage.recovered()
