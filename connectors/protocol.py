"""The seams: what a connector is, and what it may ask of the hub.

A connector satisfies the hub's ``Sink`` protocol too (``node_code`` and
``apply``), so one object per node serves pulls, write-backs and live reads.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from connectors.change import ChangePage, FetchResult, ReportContent
from connectors.config import NodeConfig
from connectors.resilience import Health
from schema.events import ReportEvent


class Connector(Protocol):
    """One node's system, seen through its protocol."""

    node_code: str
    config: NodeConfig

    @property
    def health(self) -> Health:
        """Circuit state, last error and last success of this node's calls."""

    async def start(self) -> None:
        """Opens clients and pools. Does not contact the node: a node that is down
        must not stop the hub from starting."""

    async def stop(self) -> None:
        """Closes what ``start`` opened; safe to call twice."""

    async def ping(self) -> None:
        """One cheap call to the node; raises ConnectorError when it is not healthy."""

    def pull(self, since: str | None) -> AsyncIterator[ChangePage]:
        """Changes since the watermark ``since`` (None: from the beginning), page by page.

        Persist each page's watermark only after its changes were applied. A
        malformed page raises MalformedPayload before anything of it is yielded.
        """

    async def apply(self, event: ReportEvent) -> None:
        """Writes a status change back to the node, idempotently (keyed on the event id
        where the protocol carries one). An event the hub pulled from this node (its
        SYSTEM actor) is skipped; changes by the node's people through the hub are not."""

    async def reconcile(self, event: ReportEvent) -> bool:
        """Like ``apply``, for an event whose earlier ``apply`` may have taken effect
        (the hub stopped before recording the outcome): looks the report up at the
        node and writes only what the node does not show yet (links a report it
        already created rather than creating it again). True when the node already
        held some of the event's effect, which a blind ``apply`` would have repeated."""

    async def fetch(self, refs: Sequence[str]) -> FetchResult:
        """Live read of what the hub does not copy (attachments), batched."""


class ReportDirectory(Protocol):
    """What a connector may ask the hub, implemented by the hub."""

    async def content(self, report_id: str, node_code: str) -> ReportContent | None:
        """A report's content as ``node_code`` may see it; None when it may not."""

    async def link(self, report_id: str, node_code: str, external_id: str) -> None:
        """Records that the node now knows the report under ``external_id``."""

    async def external_id(self, report_id: str, node_code: str) -> str | None:
        """The node's id for the report as the hub holds it now: a link made after the
        event being applied was published (its ``external_refs`` predate it)."""


@dataclass(frozen=True, slots=True)
class Dependencies:
    """What factories receive besides the node's configuration."""

    directory: ReportDirectory | None = None
    """None: a connector cannot create reports the node has not seen, it skips them."""
