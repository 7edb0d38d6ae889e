"""Fixtures for connector tests: started connectors on the sandbox (``tests.fixtures.sandbox``),
and events and pages to test them with."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import pytest

from connectors.change import ChangePage, ExternalChange, ReportContent
from connectors.config import NodeTable
from connectors.protocol import Connector, Dependencies
from connectors.registry import default_registry
from connectors.resilience import ResiliencePolicy
from schema.events import ExternalRef, ReportEvent
from schema.lifecycle import ReportState, Verb
from schema.report import ActorRole, PrivacyFlags, ReportKind

# One node per protocol flavour; each kind's tests run against these.
KIND_NODES = {
    "open311": "16.71",
    "rest-cursor": "16.01",
    "rest-page": "16.05",
    "graphql": "16.07",
    "lapor": "lapor",
    "postgres": "16.12",
}


@dataclass
class Directory:
    """The hub side of ReportDirectory, in memory."""

    contents: dict[str, ReportContent] = field(default_factory=dict)
    links: list[tuple[str, str, str]] = field(default_factory=list)

    async def content(self, report_id: str, node_code: str) -> ReportContent | None:
        return self.contents.get(report_id)

    async def link(self, report_id: str, node_code: str, external_id: str) -> None:
        self.links.append((report_id, node_code, external_id))

    async def external_id(self, report_id: str, node_code: str) -> str | None:
        linked = [e for r, n, e in self.links if (r, n) == (report_id, node_code)]
        return linked[0] if linked else None


Connect = Callable[..., AbstractAsyncContextManager[Connector]]


@pytest.fixture
def connect(table: NodeTable) -> Connect:
    """``async with connect(node, page_size=5, resilience=...) as connector``."""

    @asynccontextmanager
    async def opened(
        node: str,
        *,
        resilience: ResiliencePolicy | None = None,
        directory: Directory | None = None,
        **options: object,
    ) -> AsyncIterator[Connector]:
        config = table[node]
        if options:
            config = replace(config, options={**config.options, **options})
        if resilience is not None:
            config = replace(config, resilience=resilience)
        connector = default_registry().create(config, Dependencies(directory=directory))
        await connector.start()
        try:
            yield connector
        finally:
            await connector.stop()

    return opened


async def pull_all(connector: Connector, since: str | None = None) -> list[ChangePage]:
    return [page async for page in connector.pull(since)]


def changes_of(pages: list[ChangePage]) -> list[ExternalChange]:
    return [c for p in pages for c in p.changes]


def latest(pages: list[ChangePage]) -> dict[str, ExternalChange]:
    """The newest change per external id (pages may repeat a boundary record)."""
    out: dict[str, ExternalChange] = {}
    for change in changes_of(pages):
        out[change.external_id] = change
    return out


def event_for(
    node: str | None,
    external_id: str | None,
    state: ReportState,
    *,
    version: int = 2,
    actor: str = "16",
    role: ActorRole = ActorRole.INSTITUTION_ADMIN,
    report_id: str | None = None,
    event_id: str | None = None,
) -> ReportEvent:
    """An event as the hub would emit it, about a report ``node`` knows as ``external_id``."""
    refs = (ExternalRef(node, external_id),) if node and external_id else ()
    return ReportEvent(
        event_id=event_id or str(uuid.uuid4()),
        report_id=report_id or str(uuid.uuid4()),
        version=version,
        verb=Verb.VERIFY,
        previous_state=ReportState.SUBMITTED,
        state=state,
        kind=ReportKind.COMPLAINT,
        region_code="16.71",
        origin_node="lapor",
        institution_codes=("pemda-16.71", "opd-16-dinkes"),
        involved_nodes=("16", "16.71", "lapor"),
        external_refs=refs,
        occurred_at=datetime.now(UTC),
        actor_node=actor,
        actor_role=role,
    )


def content_for(report_id: str, region_code: str = "16.71") -> ReportContent:
    """What the hub holds of a report a node is to create: a street light out in
    ``region_code``, addressed to that regency's government."""
    return ReportContent(
        report_id=report_id,
        title="Lampu jalan padam di Jalan Kolonel Atmo",
        content="Sudah dua minggu lampu jalan padam, rawan kecelakaan malam hari.",
        kind=ReportKind.COMPLAINT,
        region_code=region_code,
        topic_id=304,
        institution_code=f"pemda-{region_code}",
        privacy=PrivacyFlags(),
        location="Jl. Kolonel Atmo",
    )
