"""Logging a person in and out: password, second factor, throttling, and the audit log.

Failed logins are throttled, never locked out (OWASP's Authentication Cheat Sheet:
throttle by account and source address, with growing delays, rather than a lock
anyone can set by guessing). Two counts decide, both kept in PostgreSQL so that every
API process sees them:

- per account and source address: after ``Throttle.after`` failures of one login from
  one address, each further attempt from there waits ``Throttle.first_delay`` seconds,
  doubling with every failure, up to ``Throttle.longest_delay``;
- per source address across accounts: the same after ``Throttle.source_after``
  failures, so that one address cannot guess its way through many accounts either.

The real user, from any other address, is not kept out: neither count is theirs, and
a correct password (and TOTP code) lets them in. An attempt that must wait is
refused before its password is even hashed. An attempt counts as a failure the
moment it is let through (so a burst of attempts at once is counted one by one); a
success gives it back. A count whose latest failure is older than
``Throttle.window_seconds`` starts afresh. Every login, failure, throttled attempt
and logout is appended to the audit log with the address it came from, in the same
transaction as what it records.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from hub.security.audit import AuditLog
from hub.security.credentials import Passwords, totp_step
from hub.security.sessions import SessionStore
from hub.store.connection import Session
from hub.store.database import Database


@dataclass(frozen=True, slots=True)
class Throttle:
    after: int = 5
    """Failures of one login from one address before its attempts wait."""
    source_after: int = 20
    """Failures from one address, whatever the login, before its attempts wait."""
    first_delay: float = 1.0
    """The first wait, in seconds; it doubles with each further failure ..."""
    longest_delay: float = 900.0
    """... up to this."""
    window_seconds: float = 86_400.0
    """A count whose latest failure is older than this starts afresh."""


class Outcome(enum.Enum):
    OK = "ok"
    WRONG = "wrong login or password"
    WRONG_CODE = "wrong or reused TOTP code"
    THROTTLED = "too many failures from this address"
    DISABLED = "account disabled"


@dataclass(frozen=True, slots=True)
class Attempt:
    outcome: Outcome
    token: str | None = None
    """The new session's cookie token, when ``outcome`` is OK."""
    retry_at: datetime | None = None
    """When THROTTLED: the earliest time the next attempt from that address is heard."""


_LOGIN_MAX = 64


class Logins:
    def __init__(
        self,
        db: Database,
        audit: AuditLog,
        passwords: Passwords,
        sessions: SessionStore,
        throttle: Throttle,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._db = db
        self._audit = audit
        self._passwords = passwords
        self._sessions = sessions
        self._throttle = throttle
        self._clock = clock or (lambda: datetime.now(UTC))

    async def attempt(self, login: str, password: str, code: str, source: str) -> Attempt:
        """Checks a login form sent from the address ``source``; on success starts a
        session."""
        login = login.strip().lower()[:_LOGIN_MAX]
        row = await self._db.fetchrow("user_credentials", login)
        node = None if row is None else row["node_code"]
        refused = await self._take(login, node, source)
        if refused is not None:
            return refused
        stored = None if row is None else row["password_hash"]
        checked = await asyncio.to_thread(self._passwords.check, stored, password)
        if row is None:
            await self._record(login, None, "LOGIN_FAILED", "unknown login", source)
            return Attempt(Outcome.WRONG)
        if not checked.matched:
            await self._record(login, node, "LOGIN_FAILED", Outcome.WRONG.value, source)
            return Attempt(Outcome.WRONG)
        if row["disabled"]:
            await self._record(login, node, "LOGIN_FAILED", Outcome.DISABLED.value, source)
            return Attempt(Outcome.DISABLED)
        step = None
        if row["totp_secret"] is not None:
            step = totp_step(row["totp_secret"], code, self._clock())
            if step is None:
                await self._record(login, node, "LOGIN_FAILED", Outcome.WRONG_CODE.value, source)
                return Attempt(Outcome.WRONG_CODE)
        async with self._db.transaction() as session:
            taken = await session.fetchval("user_login_succeeded", login, checked.rehashed, step)
            if not taken:  # the code's step was used before: a replay
                replayed = "reused TOTP code"
                await self._audited(session, login, node, "LOGIN_FAILED", replayed, source)
                return Attempt(Outcome.WRONG_CODE)
            await session.execute("login_throttle_cleared", source, login)
            token = await self._sessions.start(session, login)
            await self._audited(session, login, node, "LOGIN", Outcome.OK.value, source)
        return Attempt(Outcome.OK, token)

    async def logout(self, token: str, source: str) -> bool:
        """Ends the session of ``token``; False if it was not live."""
        async with self._db.transaction() as session:
            ended = await self._sessions.end(session, token)
            if ended is None:
                return False
            login, node = ended
            await self._audited(session, login, node, "LOGOUT", Outcome.OK.value, source)
        return True

    async def _take(self, login: str, node: str | None, source: str) -> Attempt | None:
        """Counts the attempt in its address's counts, or refuses it (audited) when
        either makes it wait."""
        t = self._throttle
        async with self._db.transaction() as session:
            await session.execute("login_throttle_open", source, login)
            row = await session.fetchrow(
                "login_throttle_take",
                source,
                login,
                t.after,
                t.source_after,
                t.first_delay,
                t.longest_delay,
                t.window_seconds,
            )
            assert row is not None
            if row["taken"]:
                return None
            what = f"{Outcome.THROTTLED.value} until {row['until']:%Y-%m-%d %H:%M:%S%z}"
            await self._audited(session, login, node, "LOGIN_THROTTLED", what, source)
        return Attempt(Outcome.THROTTLED, retry_at=row["until"])

    async def _record(
        self, login: str, node: str | None, action: str, outcome: str, source: str
    ) -> None:
        async with self._db.transaction() as session:
            await self._audited(session, login, node, action, outcome, source)

    async def _audited(
        self,
        session: Session,
        login: str,
        node: str | None,
        action: str,
        outcome: str,
        source: str,
    ) -> None:
        await self._audit.record(
            client_id=f"user:{login}",
            node_code=node,
            action=action,
            report_id=None,
            outcome=f"{outcome} (from {source})",
            session=session,
        )
