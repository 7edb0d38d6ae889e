"""What one GraphQL request needs of the ministry view."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol

from strawberry.dataloader import DataLoader

from hub.errors import Forbidden
from hub.ministry.deadlines import ReportDeadlines, load_deadlines
from hub.ministry.queries import MinistryQueries
from hub.ministry.settings import MinistrySettings
from hub.ministry.sources import FigureSource
from hub.store.database import Database
from schema.calendar import wib_date


def _now() -> datetime:
    return datetime.now(UTC)


class MinistryRequest:
    """Built per request: the service and a fresh loader of report deadlines.

    ``may_read`` says whether the caller may read the aggregated figures (the hub
    grants it with the ``ministry:read`` scope); a report's deadlines follow the
    report's own visibility and are not gated here.
    """

    def __init__(
        self,
        db: Database,
        settings: MinistrySettings,
        *,
        source: FigureSource | None = None,
        clock: Callable[[], datetime] = _now,
        may_read: bool = True,
    ) -> None:
        self._db = db
        self._may_read = may_read
        self.service = MinistryQueries(db, settings, source=source, clock=clock)
        self.deadlines: DataLoader[uuid.UUID, ReportDeadlines | None] = DataLoader(
            load_fn=self._load
        )

    def figures(self) -> MinistryQueries:
        """The service, for a caller allowed to read the ministry's figures."""
        if not self._may_read:
            raise Forbidden("the ministry's figures need the ministry:read scope")
        return self.service

    async def _load(self, keys: Sequence[uuid.UUID]) -> list[ReportDeadlines | None]:
        return await load_deadlines(self._db, keys, wib_date(self.service.now()))


class MinistryContext(Protocol):
    """Any GraphQL context with a ``ministry`` attribute (the hub's ``Context`` once wired)."""

    @property
    def ministry(self) -> MinistryRequest: ...
