"""Reading committed changes from the outbox in commit-safe order: the seam the read
models (the ministry roll-ups, the response cache) are fed through.

A row's id is taken before its transaction commits, so "every row after the last
id seen" would skip a transaction that commits late. The tail goes by the
transaction that wrote each row (``outbox.xid``) instead: a read notes the
*horizon* of its snapshot, the oldest transaction still running, and the next
read starts there. The rows from the horizon on that it already handed out it
remembers, so a reader sees each committed row once (once more after a restart,
which a read model must take: each of ours recomputes rather than adds).

The retention job (``hub.store.retention``) deletes old published rows, never past
the roll-ups' projection's stored horizon; a reader whose horizon lives only in
memory (the response cache's feed) learns from ``TailBatch.gap`` that rows it had
not passed may be gone.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from hub.store.connection import Session


@dataclass(frozen=True, slots=True)
class TailBatch:
    """What one read found."""

    ids: tuple[int, ...]
    """Outbox row ids, oldest transaction first."""
    xids: tuple[int, ...]
    """The transaction of each row."""
    event_ids: tuple[uuid.UUID, ...]
    data: tuple[str, ...]
    """Each row's event body (JSON), as ``schema.events.parse_event`` takes it."""
    report_ids: tuple[uuid.UUID, ...]
    """The distinct reports the rows are about."""
    horizon: int
    """Where the next read starts."""
    at: datetime
    """Every change committed before this time was visible to the read."""
    caught_up: bool
    """The read saw every committed row (it did not stop at its limit)."""
    bulk_pending: bool
    """A bulk load's reports wait in ``ministry_pending`` (they have no outbox rows)."""
    gap: bool = False
    """The retention job deleted rows this reader had not passed: it missed changes."""


@dataclass(slots=True)
class OutboxTail:
    """One reader's place in the outbox."""

    horizon: int
    limit: int = 2000
    _seen: dict[int, int] = field(default_factory=dict)
    """Row ids handed out at or beyond the horizon, with their transaction ids."""

    @classmethod
    async def from_now(cls, session: Session, limit: int = 2000) -> OutboxTail:
        """A reader of the changes committed from now on."""
        return cls(int(await session.fetchval("outbox_horizon")), limit)

    async def read(self, session: Session) -> TailBatch:
        """The committed rows not handed out yet, under one snapshot. Call ``advance``
        once whatever they feed is durable (or applied, for an in-memory reader)."""
        found = await session.fetchrow(
            "outbox_since", list(self._seen), self.limit, str(self.horizon)
        )
        assert found is not None
        ids: list[int] = found["ids"]
        xids = [int(x) for x in found["xids"]]
        full = len(ids) == self.limit
        # Every transaction below the snapshot's horizon has ended; a full read may have
        # left rows of its last transaction unread, so the next one starts there.
        horizon = int(found["horizon"])
        if full:
            horizon = min(horizon, xids[-1])
        return TailBatch(
            ids=tuple(ids),
            xids=tuple(xids),
            event_ids=tuple(found["event_ids"]),
            data=tuple(found["data"]),
            report_ids=tuple(found["report_ids"]),
            horizon=max(horizon, self.horizon),
            at=found["at"],
            caught_up=not full,
            bulk_pending=found["pending"],
            gap=int(found["pruned_below"]) > self.horizon,
        )

    def advance(self, batch: TailBatch) -> None:
        """Marks ``batch`` handled: the next read starts after it."""
        self._seen.update(zip(batch.ids, batch.xids, strict=True))
        self.horizon = batch.horizon
        self._seen = {i: x for i, x in self._seen.items() if x >= self.horizon}
