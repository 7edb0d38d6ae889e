"""The audit log: append-only and hash-chained, so an edit or a deletion shows.

A write appends its entry in its own transaction, unsealed: no lock, no read of
the chain, so writers never wait on each other for the audit. ``AuditSealer``,
one at a time across every hub process, then chains the committed unsealed
entries in the order it finds them: each gets its place (``seq``), the previous
entry's hash and its own hash over its fields and that previous hash. A trigger
lets an entry be sealed once and never edited or deleted. ``verify`` walks the
sealed chain and names the first entry that does not fit; the lag between an
entry and its seal is in ``/metrics``.

Old sealed entries move, a whole segment at a time, into archived segments
(``hub.security.audit_segments``) that keep every entry and the chain's head at
their end; ``verify`` walks the segments, then the entries kept, as one chain.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hub.outages import Outage, is_outage
from hub.security.audit_segments import SealedEntry, pack, unpack
from hub.store.connection import Session
from hub.store.database import Database

_log = logging.getLogger(__name__)

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
        session: Session | None = None,
    ) -> None:
        """Appends one entry; inside ``session``'s transaction when given, else on its own."""
        entry = AuditEntry(self._clock(), client_id, node_code, action, report_id, outcome)
        if session is not None:
            await self._append(session, entry)
            return
        async with self._db.transaction() as own:
            await self._append(own, entry)

    async def _append(self, session: Session, entry: AuditEntry) -> None:
        await session.execute(
            "audit_append",
            entry.at,
            entry.client_id,
            entry.node_code,
            entry.action,
            entry.report_id,
            entry.outcome,
        )

    async def seal(self, batch: int = 5000) -> int | None:
        """Seals up to ``batch`` committed entries; how many, or None when another
        sealer holds the chain right now."""
        async with self._db.transaction() as session:
            if not await session.fetchval("audit_seal_lock"):
                return None
            rows = await session.fetch("audit_unsealed", batch)
            if not rows:
                return 0
            head = await session.fetchrow("audit_head")
            seq, prev = (head["seq"], head["hash"]) if head is not None else (0, GENESIS)
            ids, seqs, prevs, hashes = [], [], [], []
            for r in rows:
                entry = AuditEntry(
                    r["at"], r["client_id"], r["node_code"], r["action"], r["report_id"],
                    r["outcome"],
                )  # fmt: skip
                seq += 1
                digest = entry.digest(prev)
                ids.append(r["id"])
                seqs.append(seq)
                prevs.append(prev)
                hashes.append(digest)
                prev = digest
            await session.execute("audit_seal", ids, seqs, prevs, hashes)
            return len(rows)

    async def pending(self) -> tuple[int, float]:
        """Entries waiting for their seal, and the age in seconds of the oldest."""
        row = await self._db.fetchrow("audit_pending")
        assert row is not None
        return row["entries"], row["oldest_seconds"]

    async def archive(self, older_than_days: int, size: int) -> int | None:
        """Moves the oldest ``size`` sealed entries into a segment, if all of them are
        older than ``older_than_days``, in one transaction; how many (0: none due),
        or None when the sealer holds the chain right now."""
        async with self._db.transaction() as session:
            # The sealer's lock: the chain's head does not move while a segment is cut.
            if not await session.fetchval("audit_seal_lock"):
                return None
            entries = [SealedEntry.of(r) for r in await session.fetch("audit_oldest_sealed", size)]
            before = self._clock() - timedelta(days=older_than_days)
            if len(entries) < size or max(e.at for e in entries) >= before:
                return 0
            first, last = entries[0], entries[-1]
            await session.execute(
                "audit_archive_segment",
                first.seq,
                last.seq,
                first.prev_hash,
                last.hash,
                sum(e.action == "IMPORT" for e in entries),
                min(e.at for e in entries),
                max(e.at for e in entries),
                pack(entries),
            )
            moved = int(await session.fetchval("audit_drop_archived", first.seq, last.seq))
            assert moved == len(entries)
            return moved

    async def archived(self) -> tuple[int, int]:
        """How many archived segments there are, and how many entries they hold."""
        row = await self._db.fetchrow("audit_segment_count")
        assert row is not None
        return row["segments"], row["entries"]

    async def verify(self) -> tuple[int, str, str | None]:
        """(entries checked, head hash, None) when intact; else the first problem found.

        The archived segments come first: each must follow the chain so far, its
        entries must hash as they say and its recorded head must be its last entry's
        hash; the kept entries continue from the last segment's head. A deleted or
        edited entry breaks the chain at the next one, wherever it is kept. Removing the
        newest entries leaves a shorter valid chain: compare the head hash with
        one recorded elsewhere (the command prints it) to catch that too. Entries
        not sealed yet are not checked here; ``pending`` counts them.
        """
        prev = GENESIS
        count = 0
        last_id = 0
        for segment in await self._db.fetch("audit_segments_all"):
            name = f"segment {segment['first_seq']}-{segment['last_seq']}"
            if segment["prev_hash"] != prev:
                return count, prev, f"{name} does not follow entry {last_id}"
            try:
                entries = unpack(segment["body"])
            except Exception:  # a garbled body is tampering too
                return count, prev, f"{name} cannot be read"
            seqs = [e.seq for e in entries]
            if seqs != list(range(segment["first_seq"], segment["last_seq"] + 1)):
                return count, prev, f"{name} does not hold its entries"
            for e in entries:
                count += 1
                problem = _misfit(e, prev, last_id)
                if problem:
                    return count, prev, f"{name}: {problem}"
                prev, last_id = e.hash, e.id
            if segment["head_hash"] != prev:
                return count, prev, f"{name}'s recorded head is not its last entry's hash"
        for r in await self._db.fetch("audit_all"):
            count += 1
            e = SealedEntry.of(r)
            problem = _misfit(e, prev, last_id)
            if problem:
                return count, prev, problem
            prev, last_id = e.hash, e.id
        return count, prev, None


def _misfit(e: SealedEntry, prev: str, last_id: int) -> str | None:
    """What is wrong with sealed entry ``e`` following hash ``prev``, if anything."""
    if e.prev_hash != prev:
        return f"entry {e.id} does not follow entry {last_id}"
    entry = AuditEntry(e.at, e.client_id, e.node_code, e.action, e.report_id, e.outcome)
    if entry.digest(prev) != e.hash:
        return f"entry {e.id} was altered"
    return None


@dataclass(frozen=True, slots=True)
class AuditArchiver:
    """The audit log's retention job (``hub.store.retention.Job``): one segment a step."""

    audit: AuditLog
    days: int
    """Entries older than this are archived."""
    size: int
    """Entries per segment."""
    table: str = "audit_log"

    async def step(self) -> int | None:
        return await self.audit.archive(self.days, self.size)


class AuditSealer:
    """Seals the audit chain every ``interval`` seconds, and at once while a backlog lasts."""

    def __init__(self, audit: AuditLog, interval: float = 0.2) -> None:
        self._audit = audit
        self._interval = interval

    async def run(self, stop: asyncio.Event) -> None:
        database = Outage("audit sealer: PostgreSQL", logger=_log)
        while not stop.is_set():
            try:
                sealed = await self._audit.seal()
                database.recovered()
            except Exception as error:
                if is_outage(error):
                    await database.wait(error, stop)
                else:  # a bug: say so loudly, keep the entries for the next try
                    _log.exception("sealing the audit chain failed; next try in 5 s")
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), 5)
                continue
            if not sealed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._interval)
