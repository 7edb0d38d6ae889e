"""CSRF tokens for the hub's forms.

A logged-in person's session has its own random token (``csrf_token(request)``); a
page puts it in a hidden ``csrf_token`` field of each form (or a script sends it as
the ``X-CSRF-Token`` header). ``SessionCookie`` refuses a form of a session that lacks
it before any page runs (and lets another unsafe request without it act only as the
public); ``check_csrf`` is the same check for a page that
wants to make it itself. The login form, sent before there is a session, uses a
double-submit cookie instead (``hub.security.login``).
"""

from __future__ import annotations

import hmac
from urllib.parse import parse_qs

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

CSRF_FIELD = "csrf_token"
_URLENCODED = "application/x-www-form-urlencoded"
FORM_TYPES = frozenset({_URLENCODED, "multipart/form-data", "text/plain"})
"""What a form of another site can post without asking first (no CORS preflight)."""
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class CsrfRefused(Exception):
    """An unsafe request without the right CSRF token; ``reason`` says what is wrong."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def csrf_token(request: Request) -> str | None:
    """The CSRF token of the request's session, for a form's hidden ``csrf_token``
    field; None when nobody is logged in."""
    live = request.scope.get("state", {}).get("session")
    return None if live is None else str(live.csrf_token)


def content_type(scope: Scope) -> str:
    """The request's media type, without parameters, lower case."""
    return Headers(scope=scope).get("content-type", "").split(";")[0].strip().lower()


def form_field(scope: Scope, body: bytes, name: str) -> str | None:
    """A field of a urlencoded form body, or None."""
    if content_type(scope) != _URLENCODED:
        return None
    values = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).get(name)
    return values[0] if values else None


def csrf_refusal(scope: Scope, body: bytes, expected: str) -> str | None:
    """Why an unsafe request does not carry ``expected``, or None if it does."""
    given = Headers(scope=scope).get(CSRF_HEADER) or form_field(scope, body, CSRF_FIELD)
    if not given:
        return "the CSRF token is missing"
    if not hmac.compare_digest(given.encode(), expected.encode()):
        return "the CSRF token is wrong"
    return None


async def check_csrf(request: Request) -> None:
    """Raises CsrfRefused if ``request`` is an unsafe request of a session without its
    token. (SessionCookie has refused those already; this is for a page's own use.)"""
    expected = csrf_token(request)
    if request.method not in UNSAFE_METHODS or expected is None:
        return
    reason = csrf_refusal(request.scope, await request.body(), expected)
    if reason is not None:
        raise CsrfRefused(reason)


async def with_body(receive: Receive) -> tuple[bytes, Receive]:
    """Reads a request's whole body (BodyLimit has capped it) and a ``receive`` that
    hands it on unchanged."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


async def refuse(scope: Scope, send: Send, reason: str) -> None:
    """403 CSRF_REFUSED, in both languages of the pages."""
    text = (
        f"CSRF_REFUSED: {reason}. Formulir ini kedaluwarsa atau tidak dikirim dari halaman "
        "hub; muat ulang halaman lalu coba lagi. / The form is stale or was not sent from "
        "the hub's page; reload the page and try again.\n"
    )
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": text.encode()})
