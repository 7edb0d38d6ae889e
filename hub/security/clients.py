"""OAuth2 clients: one per integrating system, secrets stored only as scrypt hashes."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from hub.errors import BadInput
from hub.security.scopes import validate_scopes
from hub.store.database import Database

_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
# scrypt with n=2**14, r=8, p=1: about 16 MiB and tens of milliseconds per check.
_N, _R, _P = 2**14, 8, 1


def _hash(secret: str, salt: bytes) -> str:
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def _matches(secret: str, stored: str) -> bool:
    _, n, r, p, salt, digest = stored.split("$")
    candidate = hashlib.scrypt(
        secret.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32
    )
    return hmac.compare_digest(candidate.hex(), digest)


@dataclass(frozen=True, slots=True)
class Client:
    client_id: str
    node_code: str | None
    scopes: frozenset[str]
    created_at: datetime
    revoked_at: datetime | None


class ClientStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, client_id: str, node_code: str | None, scopes: list[str]) -> str:
        """Registers a client; returns its secret, which is shown once and never stored."""
        if not _ID.match(client_id):
            raise BadInput("client id: 3-64 characters, lower-case letters, digits, . _ -")
        valid = validate_scopes(scopes)
        if not valid:
            raise BadInput("a client needs at least one scope")
        if node_code is not None and not await self._db.fetchval("node_exists", node_code):
            raise BadInput(f"node {node_code!r} is not a federation node")
        secret = secrets.token_urlsafe(32)
        added = await self._db.fetchval(
            "client_add",
            client_id,
            node_code,
            sorted(valid),
            _hash(secret, secrets.token_bytes(16)),
        )
        if not added:
            raise BadInput(f"client {client_id!r} already exists")
        return secret

    async def authenticate(self, client_id: str, secret: str) -> Client | None:
        """The client if the secret is right and it is not revoked; None otherwise."""
        row = await self._db.fetchrow("client_by_id", client_id)
        if row is None:
            # Spend the same effort as a real check, so timing does not reveal ids.
            _matches(secret, _hash("x", b"0" * 16))
            return None
        if row["revoked_at"] is not None or not _matches(secret, row["secret_hash"]):
            return None
        return _client(row)

    async def active(self, client_id: str) -> bool:
        return bool(await self._db.fetchval("client_active", client_id))

    async def list(self) -> list[Client]:
        return [_client(r) for r in await self._db.fetch("client_list")]

    async def revoke(self, client_id: str) -> bool:
        return bool(await self._db.fetchval("client_revoke", client_id))


def _client(r: asyncpg.Record) -> Client:
    return Client(
        r["client_id"], r["node_code"], frozenset(r["scopes"]), r["created_at"], r["revoked_at"]
    )
