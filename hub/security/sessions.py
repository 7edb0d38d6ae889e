"""People's sessions: a random token in an HttpOnly cookie, its SHA-256 in PostgreSQL.

Server-side sessions rather than signed cookies, so that a logout or a disabled
account ends a session on the very next request. ``SessionCookie`` (pure ASGI, after
``Authenticate``) puts a logged-in person's ``Principal`` in ``scope["state"]``
exactly where a bearer token's goes, so every page and GraphQL read decides on it
alike; it also refuses an unsafe request of a session without its CSRF token
(``hub.security.csrf``).
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from dataclasses import dataclass

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from hub.security.csrf import (
    FORM_TYPES,
    UNSAFE_METHODS,
    content_type,
    csrf_refusal,
    refuse,
    with_body,
)
from hub.security.scopes import Principal
from hub.security.users import Role, principal_of
from hub.store.connection import Session
from hub.store.database import Database
from hub.store.retention import Job, Prune

SESSION_COOKIE = "sp4n_session"


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def is_loopback(host: str) -> bool:
    """Whether the hub listens on loopback only (its cookies then go without ``Secure``:
    a browser on the same machine speaks plain http to it)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class LiveSession:
    """A logged-in person, as a request sees them."""

    principal: Principal
    display_name: str
    csrf_token: str


@dataclass(frozen=True, slots=True)
class CookiePolicy:
    """How the session cookie is set: always HttpOnly and SameSite=Lax (a link from
    elsewhere to a page still finds the person logged in; every unsafe request needs
    its CSRF token anyway); ``Secure`` unless the hub is served on loopback."""

    secure: bool
    max_age: int

    def set(self, response: Response, token: str) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=self.max_age,
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="lax",
        )

    def clear(self, response: Response) -> None:
        response.delete_cookie(
            SESSION_COOKIE, path="/", secure=self.secure, httponly=True, samesite="lax"
        )


class SessionStore:
    """Starts, finds and ends sessions."""

    def __init__(self, db: Database, lifetime_seconds: int) -> None:
        self._db = db
        self.lifetime_seconds = lifetime_seconds

    async def start(self, session: Session, login: str) -> str:
        """A new session for ``login`` in ``session``'s transaction; its cookie token."""
        token = secrets.token_urlsafe(32)
        await session.execute(
            "session_start",
            _digest(token),
            login,
            secrets.token_urlsafe(32),
            float(self.lifetime_seconds),
        )
        return token

    async def lookup(self, token: str) -> LiveSession | None:
        row = await self._db.fetchrow("session_lookup", _digest(token))
        if row is None:
            return None
        principal = principal_of(row["login"], Role(row["role"]), row["node_code"])
        return LiveSession(principal, row["display_name"], row["csrf_token"])

    async def end(self, session: Session, token: str) -> tuple[str, str | None] | None:
        """Ends a live session; its login and node, or None if it was not live."""
        row = await session.fetchrow("session_end", _digest(token))
        return None if row is None else (row["login"], row["node_code"])


def session_jobs(db: Database, days: int, batch: int) -> list[Job]:
    """The retention jobs of people's logins: sessions ended or expired ``days`` ago,
    and login counts (``hub.security.logins``) idle that long."""
    return [
        Prune(db, "user_sessions", "retention_sessions", days, batch),
        Prune(db, "login_throttle", "retention_login_throttle", days, batch),
    ]


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope["headers"]:
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                k, _, v = part.strip().partition("=")
                if k == name and v:
                    return str(v)
    return None


class SessionCookie:
    """A request with a live session cookie (and no ``Authorization``) acts as its
    person: ``state["principal"]`` and ``state["session"]`` (a ``LiveSession``).

    An unsafe request (POST, PUT, PATCH, DELETE) acts for the session only with the
    session's CSRF token, in the ``X-CSRF-Token`` header or the ``csrf_token`` field of
    a urlencoded form. A form (or a body of no type) without it is refused here with
    403 CSRF_REFUSED, so no page behind can forget the check; any other body without
    it goes on as the public. WebSockets are left to their tokens.
    """

    def __init__(self, app: ASGIApp, sessions: SessionStore) -> None:
        self.app = app
        self.sessions = sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = _cookie(scope, SESSION_COOKIE)
        has_bearer = any(k == b"authorization" for k, _ in scope["headers"])
        live = None if token is None or has_bearer else await self.sessions.lookup(token)
        if live is None:
            await self.app(scope, receive, send)
            return
        if scope["method"] in UNSAFE_METHODS:
            body, receive = await with_body(receive)
            reason = csrf_refusal(scope, body, live.csrf_token)
            # A body with no type, like a form's, can come from any site's page.
            if reason is not None and content_type(scope) in (*FORM_TYPES, ""):
                await refuse(scope, send, reason)
                return
            if reason is not None:
                # Not a form: no other site can send it without a CORS preflight, which
                # the hub never grants. A page's script without the header (GraphiQL, say)
                # goes on as the public: a session's authority needs its token.
                await self.app(scope, receive, send)
                return
        state = scope.setdefault("state", {})
        state["principal"] = live.principal
        state["session"] = live
        await self.app(scope, receive, send)
