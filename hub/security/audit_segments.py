"""Archived segments of the audit chain: how a run of sealed entries is kept.

A segment holds its entries as gzip-compressed JSON lines, every field as the chain
hashed it plus the entry's id, place and both hashes, so ``AuditLog.verify`` can
recompute each hash from the archive alone. Segments live in PostgreSQL
(``audit_segments``), not in files: a segment is written and its entries leave
``audit_log`` in one transaction (a file and a delete cannot be atomic), every hub
process and the command line reach it, and it is backed up and replicated with the
rest of the index.
"""

from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import asyncpg


@dataclass(frozen=True, slots=True)
class SealedEntry:
    """A sealed audit entry as ``audit_log`` or a segment holds it."""

    id: int
    seq: int
    at: datetime
    client_id: str | None
    node_code: str | None
    action: str
    report_id: uuid.UUID | None
    outcome: str
    prev_hash: str
    hash: str

    @classmethod
    def of(cls, row: asyncpg.Record) -> SealedEntry:
        return cls(
            row["id"], row["seq"], row["at"], row["client_id"], row["node_code"],
            row["action"], row["report_id"], row["outcome"], row["prev_hash"], row["hash"],
        )  # fmt: skip


def pack(entries: Iterable[SealedEntry]) -> bytes:
    """The segment's body: one JSON array per entry, gzip-compressed."""
    lines = (
        json.dumps(
            [
                e.id,
                e.seq,
                e.at.isoformat(),
                e.client_id,
                e.node_code,
                e.action,
                str(e.report_id) if e.report_id else None,
                e.outcome,
                e.prev_hash,
                e.hash,
            ],
            separators=(",", ":"),
        )
        for e in entries
    )
    return gzip.compress("\n".join(lines).encode(), mtime=0)


def unpack(body: bytes) -> list[SealedEntry]:
    """The entries of a segment's body, in their order."""
    entries = []
    for line in gzip.decompress(body).decode().splitlines():
        i, seq, at, client, node, action, report, outcome, prev, digest = json.loads(line)
        entries.append(
            SealedEntry(
                i,
                seq,
                datetime.fromisoformat(at),
                client,
                node,
                action,
                uuid.UUID(report) if report else None,
                outcome,
                prev,
                digest,
            )
        )
    return entries
