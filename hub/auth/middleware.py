"""Pure ASGI middleware for the GraphQL endpoint: body size, who is calling, how often.

Each refuses before the request reaches GraphQL, so no resolver and no SQL runs
for a refused call.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.auth.scopes import PUBLIC
from hub.auth.tokens import TokenError, Tokens


async def _reply(
    send: Send, status: int, message: str, code: str, headers: list[tuple[bytes, bytes]]
) -> None:
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), *headers],
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
            await _reply(send, 413, f"request body over {self.max_bytes} bytes", "TOO_LARGE", [])
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
            await _reply(send, 413, f"request body over {self.max_bytes} bytes", "TOO_LARGE", [])


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
        scheme, _, token = header.decode("latin-1").partition(" ")
        try:
            if scheme.lower() != "bearer" or not token.strip():
                raise TokenError("use the Authorization: Bearer <token> scheme")
            principal = self.tokens.verify(token.strip())
            assert principal.client_id is not None
            if not await self.is_active(principal.client_id):
                raise TokenError("the client has been revoked")
        except TokenError as error:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 4401, "reason": error.reason})
                return
            challenge = f'Bearer error="invalid_token", error_description="{error.reason}"'
            await _reply(
                send,
                401,
                error.reason,
                "UNAUTHENTICATED",
                [(b"www-authenticate", challenge.encode())],
            )
            return
        state["principal"] = principal
        await self.app(scope, receive, send)


@dataclass(slots=True)
class _Bucket:
    tokens: float
    stamp: float


@dataclass(slots=True)
class RateLimit:
    """A token bucket per client (per address for the public): 429 with Retry-After."""

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
                send,
                429,
                f"rate limit: {self.per_second:g} requests/s",
                "RATE_LIMITED",
                [(b"retry-after", str(wait).encode())],
            )
            return
        bucket.tokens -= 1
        await self.app(scope, receive, send)


class RefusedIs400:
    """Answers 400 for an operation GraphQL refused before executing it.

    The GraphQL view marks such a request in ``scope["state"]``; status codes
    are HTTP's business, so the rewrite happens here.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_status(message: Message) -> None:
            if message["type"] == "http.response.start" and scope.get("state", {}).get("refused"):
                message = {**message, "status": 400}
            await send(message)

        await self.app(scope, receive, send_with_status)
