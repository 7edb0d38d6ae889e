"""People who log in to the hub's pages: analysts and coordinators, each with a role.

A role is a set of the clients' scopes (``hub.security.scopes``), so a person's
requests are decided exactly as a token with those scopes would be:

| role | scope | sees |
|---|---|---|
| ``ministry`` | ``ministry:read`` | every region's figures |
| ``province-admin`` | ``province:admin`` | everything |
| ``regency`` of node ``<code>`` | ``node:<code>:read`` | its own region's figures and reports |
"""

from __future__ import annotations

import asyncio
import enum
import re
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from hub.errors import BadInput
from hub.security.audit import AuditLog
from hub.security.credentials import Passwords, new_totp_secret, password_problem, totp_uri
from hub.security.scopes import MINISTRY_READ, PROVINCE_ADMIN, Principal
from hub.store.database import Database
from schema.nodes import NODES, NodeLevel
from schema.regions import PROVINCE_CODE

_LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
_REGENCY_NODES = frozenset(n.code for n in NODES if n.level is NodeLevel.REGENCY)


class Role(enum.Enum):
    MINISTRY = "ministry"
    PROVINCE_ADMIN = "province-admin"
    REGENCY = "regency"


def principal_of(login: str, role: Role, node_code: str | None) -> Principal:
    """The principal a person's requests act as: ``user:<login>`` with the role's scopes."""
    client_id = f"user:{login}"
    if role is Role.MINISTRY:
        return Principal(client_id, None, frozenset({MINISTRY_READ}))
    if role is Role.PROVINCE_ADMIN:
        return Principal(client_id, PROVINCE_CODE, frozenset({PROVINCE_ADMIN}))
    assert node_code is not None  # the table's check: a regency role names its node
    return Principal(client_id, node_code, frozenset({f"node:{node_code}:read"}))


@dataclass(frozen=True, slots=True)
class User:
    login: str
    display_name: str
    role: Role
    node_code: str | None
    has_totp: bool
    created_at: datetime
    disabled_at: datetime | None

    @property
    def principal(self) -> Principal:
        return principal_of(self.login, self.role, self.node_code)


@dataclass(frozen=True, slots=True)
class Added:
    user: User
    totp_uri: str | None
    """The ``otpauth://`` URI of the new second factor, shown once; None without one."""


class UserStore:
    """Adds, lists and disables accounts; each change is in the audit log."""

    def __init__(self, db: Database, audit: AuditLog, passwords: Passwords) -> None:
        self._db = db
        self._audit = audit
        self._passwords = passwords

    async def add(
        self,
        login: str,
        display_name: str,
        role: Role,
        node_code: str | None,
        password: str,
        *,
        totp: bool = False,
    ) -> Added:
        if not _LOGIN.match(login):
            raise BadInput("login: 3-64 characters, lower-case letters, digits, . _ -")
        if not display_name.strip():
            raise BadInput("a display name is needed")
        if role is Role.REGENCY and node_code not in _REGENCY_NODES:
            raise BadInput("a regency coordinator needs --node, the code of a kabupaten/kota")
        if role is not Role.REGENCY and node_code is not None:
            raise BadInput(f"role {role.value!r} belongs to no node; leave out --node")
        problem = password_problem(password)
        if problem is not None:
            raise BadInput(problem)
        hashed = await asyncio.to_thread(self._passwords.hash, password)
        secret = new_totp_secret() if totp else None
        async with self._db.transaction() as session:
            row = await session.fetchrow(
                "user_add", login, display_name.strip(), role.value, node_code, hashed, secret
            )
            if row is None:
                raise BadInput(f"user {login!r} already exists")
            await self._audit.record(
                client_id=f"user:{login}",
                node_code=node_code,
                action="USER_ADDED",
                report_id=None,
                outcome=role.value,
                session=session,
            )
        return Added(_user(row), totp_uri(secret, login) if secret else None)

    async def set_password(self, login: str, password: str) -> bool:
        """A new password (the demo's at each start); ends the account's sessions and
        lifts a lock-out. False if there is no such account."""
        problem = password_problem(password)
        if problem is not None:
            raise BadInput(problem)
        hashed = await asyncio.to_thread(self._passwords.hash, password)
        async with self._db.transaction() as session:
            row = await session.fetchrow("user_set_password", login, hashed)
            if row is None:
                return False
            await self._audit.record(
                client_id=f"user:{login}",
                node_code=row["node_code"],
                action="PASSWORD_SET",
                report_id=None,
                outcome="ok",
                session=session,
            )
        return True

    async def list(self) -> list[User]:
        return [_user(r) for r in await self._db.fetch("user_list")]

    async def disable(self, login: str) -> bool:
        """Disables an account and ends its sessions; False if no enabled account has it."""
        async with self._db.transaction() as session:
            node = await session.fetchrow("user_disable", login)
            if node is None:
                return False
            await self._audit.record(
                client_id=f"user:{login}",
                node_code=node["node_code"],
                action="USER_DISABLED",
                report_id=None,
                outcome=f"{node['sessions_ended']} session(s) ended",
                session=session,
            )
        return True


def _user(r: asyncpg.Record) -> User:
    return User(
        r["login"],
        r["display_name"],
        Role(r["role"]),
        r["node_code"],
        r["has_totp"],
        r["created_at"],
        r["disabled_at"],
    )
