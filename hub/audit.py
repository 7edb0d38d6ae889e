"""The audit log: append-only and hash-chained, so an edit or a deletion shows.

Each entry's hash covers its own fields and the previous entry's hash. ``verify``
walks the chain and names the first entry that does not fit.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from hub.store.connection import Connection
from hub.store.database import Database

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    client_id: str | None
    node_code: str | None
    action: str
    report_id: uuid.UUID | None
    outcome: str

    def digest(self, prev_hash: str) -> str:
        body = json.dumps(
            [
                prev_hash,
                self.at.isoformat(),
                self.client_id,
                self.node_code,
                self.action,
                str(self.report_id) if self.report_id else None,
                self.outcome,
            ],
            separators=(",", ":"),
        )
        return hashlib.sha256(body.encode()).hexdigest()


class AuditLog:
    def __init__(self, db: Database, clock: Callable[[], datetime] | None = None) -> None:
        self._db = db
        self._clock = clock or (lambda: datetime.now(UTC))

    async def record(
        self,
        *,
        client_id: str | None,
        node_code: str | None,
        action: str,
        report_id: uuid.UUID | None,
        outcome: str,
        conn: Connection | None = None,
    ) -> None:
        """Appends one entry; inside ``conn``'s transaction when given, else on its own."""
        entry = AuditEntry(self._clock(), client_id, node_code, action, report_id, outcome)
        if conn is not None:
            await self._append(conn, entry)
            return
        async with self._db.pool.acquire() as own, own.transaction():
            await self._append(own, entry)

    async def _append(self, conn: Connection, entry: AuditEntry) -> None:
        sql = self._db.sql
        await conn.execute(sql["audit_lock"])
        prev = await conn.fetchval(sql["audit_last_hash"]) or GENESIS
        await conn.execute(
            sql["audit_append"],
            entry.at,
            entry.client_id,
            entry.node_code,
            entry.action,
            entry.report_id,
            entry.outcome,
            prev,
            entry.digest(prev),
        )

    async def verify(self) -> tuple[int, str, str | None]:
        """(entries checked, head hash, None) when intact; else the first problem found.

        A deleted or edited entry breaks the chain at the next one. Removing the
        newest entries leaves a shorter valid chain: compare the head hash with
        one recorded elsewhere (the command prints it) to catch that too.
        """
        prev = GENESIS
        count = 0
        last_id = 0
        for r in await self._db.fetch("audit_all"):
            count += 1
            entry = AuditEntry(
                r["at"], r["client_id"], r["node_code"], r["action"], r["report_id"], r["outcome"]
            )
            if r["prev_hash"] != prev:
                return count, prev, f"entry {r['id']} does not follow entry {last_id}"
            if entry.digest(prev) != r["hash"]:
                return count, prev, f"entry {r['id']} was altered"
            prev = r["hash"]
            last_id = r["id"]
        return count, prev, None
