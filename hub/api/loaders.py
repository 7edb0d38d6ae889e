"""Per-request DataLoaders: one SQL statement per relation per page, never per row."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from datetime import datetime
from typing import TypeVar

from strawberry.dataloader import DataLoader

from connectors.change import Attachment
from connectors.errors import ConnectorError
from connectors.federation import Federation
from hub.errors import HubError, SourceUnavailable
from hub.store.database import Database
from hub.store.rows import (
    DispositionRow,
    DuplicateRow,
    ExternalRefRow,
    FollowUpRow,
    HistoryRow,
    InstitutionRow,
    NodeRow,
    RatingRow,
    RegionRow,
    ReplyRow,
    ReporterRow,
    ReportRow,
    TopicRow,
    typed,
)

K = TypeVar("K", bound=Hashable)
R = TypeVar("R")


def _one_each(
    db: Database, query: str, key: str, build: type[R]
) -> Callable[[list[K]], Awaitable[Sequence[R | None]]]:
    async def load(keys: list[K]) -> Sequence[R | None]:
        rows = await db.fetch(query, keys)
        found = {r[key]: typed(build, r) for r in rows}
        return [found.get(k) for k in keys]

    return load


def _many_each(
    db: Database, query: str, build: type[R]
) -> Callable[[list[uuid.UUID]], Awaitable[Sequence[list[R]]]]:
    async def load(keys: list[uuid.UUID]) -> Sequence[list[R]]:
        grouped: defaultdict[uuid.UUID, list[R]] = defaultdict(list)
        for r in await db.fetch(query, keys):
            grouped[r["report_id"]].append(typed(build, r))
        return [grouped.get(k, []) for k in keys]

    return load


def _pulled_at(db: Database) -> Callable[[list[str]], Awaitable[Sequence[datetime | None]]]:
    async def load(keys: list[str]) -> Sequence[datetime | None]:
        found = {r["node_code"]: r["pulled_at"] for r in await db.fetch("pulled_at_by_nodes", keys)}
        return [found.get(k) for k in keys]

    return load


AttachmentKey = tuple[str, str]
"""(node code, the node's external id of the report)."""


def _attachments(
    federation: Federation | None,
) -> Callable[[list[AttachmentKey]], Awaitable[Sequence[tuple[Attachment, ...] | BaseException]]]:
    """Live reads, one batched ``fetch`` per node; a failing node fails only its own keys."""

    async def load(keys: list[AttachmentKey]) -> Sequence[tuple[Attachment, ...] | BaseException]:
        by_node: defaultdict[str, list[str]] = defaultdict(list)
        for node, external_id in keys:
            by_node[node].append(external_id)

        async def read(node: str, refs: list[str]) -> dict[str, tuple[Attachment, ...]] | HubError:
            if federation is None or node not in federation.connectors:
                return {}
            try:
                result = await federation[node].fetch(refs)
            except ConnectorError as error:
                return SourceUnavailable(node, error.code, error.retryable, str(error))
            return {ref: record.attachments for ref, record in result.records.items()}

        nodes = list(by_node)
        answers = dict(
            zip(nodes, await asyncio.gather(*(read(n, by_node[n]) for n in nodes)), strict=True)
        )
        out: list[tuple[Attachment, ...] | BaseException] = []
        for node, external_id in keys:
            answer = answers[node]
            out.append(answer if isinstance(answer, HubError) else answer.get(external_id, ()))
        return out

    return load


class Loaders:
    """A fresh set for each request, so nothing is cached across callers."""

    def __init__(self, db: Database, federation: Federation | None = None) -> None:
        self.region: DataLoader[str, RegionRow | None] = DataLoader(
            _one_each(db, "regions_by_code", "code", RegionRow)
        )
        self.node: DataLoader[str, NodeRow | None] = DataLoader(
            _one_each(db, "nodes_by_code", "code", NodeRow)
        )
        self.institution: DataLoader[str, InstitutionRow | None] = DataLoader(
            _one_each(db, "institutions_by_code", "code", InstitutionRow)
        )
        self.report: DataLoader[uuid.UUID, ReportRow | None] = DataLoader(
            _one_each(db, "reports_by_ids", "id", ReportRow)
        )
        self.topic: DataLoader[int, TopicRow | None] = DataLoader(
            _one_each(db, "topics_by_id", "id", TopicRow)
        )
        self.history: DataLoader[uuid.UUID, list[HistoryRow]] = DataLoader(
            _many_each(db, "history_by_reports", HistoryRow)
        )
        self.dispositions: DataLoader[uuid.UUID, list[DispositionRow]] = DataLoader(
            _many_each(db, "dispositions_by_reports", DispositionRow)
        )
        self.follow_ups: DataLoader[uuid.UUID, list[FollowUpRow]] = DataLoader(
            _many_each(db, "follow_ups_by_reports", FollowUpRow)
        )
        self.replies: DataLoader[uuid.UUID, list[ReplyRow]] = DataLoader(
            _many_each(db, "replies_by_reports", ReplyRow)
        )
        self.rating: DataLoader[uuid.UUID, RatingRow | None] = DataLoader(
            _one_each(db, "rating_by_reports", "report_id", RatingRow)
        )
        self.external_refs: DataLoader[uuid.UUID, list[ExternalRefRow]] = DataLoader(
            _many_each(db, "external_refs_by_reports", ExternalRefRow)
        )
        self.reporter: DataLoader[uuid.UUID, ReporterRow | None] = DataLoader(
            _one_each(db, "reporters_by_reports", "report_id", ReporterRow)
        )
        self.duplicate: DataLoader[uuid.UUID, DuplicateRow | None] = DataLoader(
            _one_each(db, "duplicates_by_reports", "report_id", DuplicateRow)
        )
        self.pulled_at: DataLoader[str, datetime | None] = DataLoader(_pulled_at(db))
        self.attachments: DataLoader[AttachmentKey, tuple[Attachment, ...]] = DataLoader(
            _attachments(federation)
        )
