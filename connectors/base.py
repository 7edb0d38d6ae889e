"""What every kind shares: the node's Guard, its health, and the write-back template."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence

from connectors.change import ChangePage, FetchResult, ReportContent
from connectors.config import NodeConfig
from connectors.errors import NotSupported
from connectors.http import HttpNode
from connectors.protocol import Dependencies
from connectors.resilience import Guard, Health
from schema.events import ReportEvent
from schema.report import ActorRole
from schema.topics import TOPICS

_log = logging.getLogger(__name__)
_PARENTS = {t.id: t.parent_id for t in TOPICS}


class BaseConnector:
    """A connector's common half; a kind adds pull, fetch, create and write_state."""

    def __init__(self, config: NodeConfig, deps: Dependencies) -> None:
        self.config = config
        self.node_code = config.code
        self.deps = deps
        self.guard = Guard(config.code, config.resilience)

    @property
    def health(self) -> Health:
        return self.guard.health

    http: HttpNode | None = None
    """The node's HTTP client, for the kinds that speak HTTP; started and stopped here."""

    async def start(self) -> None:
        if self.http is not None:
            await self.http.start()

    async def stop(self) -> None:
        if self.http is not None:
            await self.http.stop()

    async def ping(self) -> None:
        """Nothing to check by default."""

    def pull(self, since: str | None) -> AsyncIterator[ChangePage]:
        raise NotImplementedError

    async def fetch(self, refs: Sequence[str]) -> FetchResult:
        raise NotImplementedError

    async def apply(self, event: ReportEvent) -> None:
        """Writes ``event`` to the node, creating the report there first if it is new."""
        if event.actor_node == self.node_code and event.actor_role is ActorRole.NODE_SYSTEM:
            # The change came from the node's own system (pulled, or sent by its service
            # account): it already shows it. A change by the node's people through the
            # hub (e.g. the province's verifying admins) or by the hub's auto-close is
            # news to the node's system and is written like any other.
            return
        external_id = self.external_id_of(event)
        if external_id is None:
            external_id = await self._create_from_hub(event)
            if external_id is None:
                return
        await self.write_state(external_id, event)

    def external_id_of(self, event: ReportEvent) -> str | None:
        """This node's id of the event's report, if the node already has it."""
        for ref in event.external_refs:
            if ref.node_code == self.node_code:
                return ref.external_id
        return None

    async def _create_from_hub(self, event: ReportEvent) -> str | None:
        directory = self.deps.directory
        if directory is None:
            _log.info(
                "node %s: report %s is new to the node and no directory is wired; skipped",
                self.node_code,
                event.report_id,
            )
            return None
        content = await directory.content(event.report_id, self.node_code)
        if content is None:
            # The hub withholds it from this node (e.g. confidential): nothing to write.
            return None
        external_id = await self.create(content, event)
        await directory.link(event.report_id, self.node_code, external_id)
        return external_id

    async def create(self, content: ReportContent, event: ReportEvent) -> str:
        """Creates the report in the node; must be idempotent on ``content.report_id``."""
        raise NotSupported(self.node_code, "creating reports is not configured for this node")

    async def write_state(self, external_id: str, event: ReportEvent) -> None:
        """Makes the node show ``event.state`` in its own vocabulary."""
        raise NotImplementedError

    def category_for(self, topic_id: int) -> str | None:
        """The node's category for a hub topic (falling back to the parent topic)."""
        return self.config.topics.to_code(topic_id, _PARENTS.get(topic_id))
