"""Push nodes: the node calls the hub's GraphQL mutations, so nothing is pulled.

Status changes still reach the node: ``apply`` forwards each event as a
CloudEvent (structured JSON) to the node's webhook when the table gives a
``url``, and otherwise records it for the node to read (recent events, bounded).
The CloudEvent ``id`` is the event id, so the node can drop a redelivery.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Sequence

from connectors.base import BaseConnector
from connectors.change import ChangePage, FetchResult
from connectors.config import NodeConfig
from connectors.options import Options
from connectors.protocol import Dependencies
from schema.events import ReportEvent
from schema.report import ActorRole


def cloud_event(event: ReportEvent) -> dict[str, object]:
    """The event in CloudEvents structured mode: no report content, no identity."""
    return {
        "specversion": "1.0",
        "id": event.event_id,
        "source": f"/sp4n/nodes/{event.actor_node}",
        "type": event.type,
        "subject": event.report_id,
        "time": event.occurred_at.isoformat(),
        "datacontenttype": "application/json",
        "data": event.data(),
    }


class PushConnector(BaseConnector):
    """A node that pushes to the hub; the hub only forwards or records its events."""

    def __init__(self, config: NodeConfig, deps: Dependencies) -> None:
        super().__init__(config, deps)
        o = Options(config.code, config.options)
        self.recorded: deque[ReportEvent] = deque(maxlen=o.integer("record_limit", 1000))
        o.finish()
        if config.url is not None:
            self.http = self.http_node({"content-type": "application/cloudevents+json"})

    async def ping(self) -> None:
        """A push node proves itself by calling; there is nothing to ping."""

    async def pull(self, since: str | None) -> AsyncIterator[ChangePage]:
        """Nothing to pull: the node's changes arrive as mutations."""
        return
        yield  # makes this an async generator that yields nothing

    async def apply(self, event: ReportEvent) -> None:
        if event.actor_node == self.node_code and event.actor_role is ActorRole.NODE_SYSTEM:
            # The node sent this change itself, through its service account.
            return
        if self.http is None:
            self.recorded.append(event)
            return
        await self.http.call("POST", "", what="forward event", json_body=cloud_event(event))

    async def reconcile(self, event: ReportEvent) -> bool:
        """Forwards the event again: its CloudEvent ``id`` is the key a receiver drops a
        redelivery by, and a push node creates nothing."""
        await self.apply(event)
        return False

    async def fetch(self, refs: Sequence[str]) -> FetchResult:
        """A push node serves no live reads; every ref is reported missing."""
        return FetchResult({}, frozenset(refs))
