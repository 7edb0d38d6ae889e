"""Logging a person in and out: password, second factor, lock-out, and the audit log.

``LockOut.after`` failures in a row (a wrong password or a wrong TOTP code) lock the
account for ``LockOut.seconds``; while locked, no password is even checked. Every
login, failure, lock-out and logout is appended to the audit log, in the same
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
class LockOut:
    after: int = 5
    """Failures in a row that lock an account."""
    seconds: int = 900
    """How long it stays locked."""


class Outcome(enum.Enum):
    OK = "ok"
    WRONG = "wrong login or password"
    WRONG_CODE = "wrong or reused TOTP code"
    LOCKED = "locked"
    DISABLED = "account disabled"


@dataclass(frozen=True, slots=True)
class Attempt:
    outcome: Outcome
    token: str | None = None
    """The new session's cookie token, when ``outcome`` is OK."""
    locked_until: datetime | None = None


_LOGIN_MAX = 64


class Logins:
    def __init__(
        self,
        db: Database,
        audit: AuditLog,
        passwords: Passwords,
        sessions: SessionStore,
        lockout: LockOut,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._db = db
        self._audit = audit
        self._passwords = passwords
        self._sessions = sessions
        self._lockout = lockout
        self._clock = clock or (lambda: datetime.now(UTC))

    async def attempt(self, login: str, password: str, code: str) -> Attempt:
        """Checks a login form; on success starts a session."""
        login = login.strip().lower()[:_LOGIN_MAX]
        row = await self._db.fetchrow("user_credentials", login)
        node = None if row is None else row["node_code"]
        if row is not None and row["locked"]:
            await self._record(login, node, "LOGIN_FAILED", f"locked until {row['locked_until']}")
            return Attempt(Outcome.LOCKED, locked_until=row["locked_until"])
        stored = None if row is None else row["password_hash"]
        checked = await asyncio.to_thread(self._passwords.check, stored, password)
        if row is None:
            await self._record(login, None, "LOGIN_FAILED", "unknown login")
            return Attempt(Outcome.WRONG)
        if not checked.matched:
            return await self._failed(login, node, Outcome.WRONG)
        if row["disabled"]:
            await self._record(login, node, "LOGIN_FAILED", Outcome.DISABLED.value)
            return Attempt(Outcome.DISABLED)
        step = None
        if row["totp_secret"] is not None:
            step = totp_step(row["totp_secret"], code, self._clock())
            if step is None:
                return await self._failed(login, node, Outcome.WRONG_CODE)
        async with self._db.transaction() as session:
            taken = await session.fetchval("user_login_succeeded", login, checked.rehashed, step)
            if not taken:  # the code's step was used before: a replay
                await self._audited(session, login, node, "LOGIN_FAILED", "reused TOTP code")
                token = None
            else:
                token = await self._sessions.start(session, login)
                await self._audited(session, login, node, "LOGIN", Outcome.OK.value)
        if token is None:
            return await self._failed(login, node, Outcome.WRONG_CODE, audited=True)
        return Attempt(Outcome.OK, token)

    async def logout(self, token: str) -> bool:
        """Ends the session of ``token``; False if it was not live."""
        async with self._db.transaction() as session:
            ended = await self._sessions.end(session, token)
            if ended is None:
                return False
            login, node = ended
            await self._audited(session, login, node, "LOGOUT", Outcome.OK.value)
        return True

    async def _failed(
        self, login: str, node: str | None, outcome: Outcome, *, audited: bool = False
    ) -> Attempt:
        async with self._db.transaction() as session:
            row = await session.fetchrow(
                "user_login_failed", login, self._lockout.after, float(self._lockout.seconds)
            )
            if not audited:
                await self._audited(session, login, node, "LOGIN_FAILED", outcome.value)
            if row is not None and row["locked"]:
                until = row["locked_until"]
                what = f"{self._lockout.after} failures in a row; locked until {until}"
                await self._audited(session, login, node, "LOCKED_OUT", what)
                return Attempt(Outcome.LOCKED, locked_until=until)
        return Attempt(outcome)

    async def _record(self, login: str, node: str | None, action: str, outcome: str) -> None:
        async with self._db.transaction() as session:
            await self._audited(session, login, node, action, outcome)

    async def _audited(
        self, session: Session, login: str, node: str | None, action: str, outcome: str
    ) -> None:
        await self._audit.record(
            client_id=f"user:{login}",
            node_code=node,
            action=action,
            report_id=None,
            outcome=outcome,
            session=session,
        )
