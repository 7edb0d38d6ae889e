"""What every kind shares: the node's Guard, its health, and the write-back template.

Write-backs are keyed for the node: a state write on the hub's event id, a
creation on the hub's report id (``creation_key``), sent wherever the node's
protocol carries a key. ``reconcile`` is the hub's own half, for a node that may
not honour keys: after a crash it looks the report up and sends only what is
missing.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping, Sequence

from connectors.change import ChangePage, FetchResult, NodeReport, ReportContent
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


def creation_key(report_id: str) -> str:
    """The idempotency key of creating a hub report at a node: one creation per report,
    whichever of its events first finds the node without it (several may, before the
    first one's link is in their ``external_refs``)."""
    return f"sp4n-create-{report_id}"


def state_note(event: ReportEvent) -> str:
    """The note a write-back leaves with the state, in the node staff's words."""
    return f"Diperbarui melalui SP4N Sumsel: {event.state.label}"


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

    def http_node(
        self,
        headers: Mapping[str, str] | None = None,
        *,
        auth_header: str = "Authorization",
        auth_scheme: str = "Bearer",
    ) -> HttpNode:
        """The node's HTTP client at the table's ``url``, sending the table's credential,
        if it gives one, as ``auth_header: <auth_scheme> <token>`` (scheme ``none``: the
        token alone)."""
        sent = dict(headers or {})
        if self.config.credentials is not None:
            token = self.config.credentials.value
            sent[auth_header] = token if auth_scheme == "none" else f"{auth_scheme} {token}"
        return HttpNode(self.node_code, self.config.url, self.guard, headers=sent)

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
        if self._own_change(event):
            return
        await self._write(event, self.external_id_of(event) or await self._linked(event))

    async def reconcile(self, event: ReportEvent) -> bool:
        """``apply`` after an attempt whose outcome is unknown: asks the node first.

        A report the node already holds under the hub's reference is linked, not
        created again; a state the node already shows is not written again. A node
        that cannot be asked gets the event again, under its idempotency keys.
        """
        if self._own_change(event):
            return False
        external_id = self.external_id_of(event) or await self._linked(event)
        try:
            found = await self.find(event, external_id)
        except NotSupported:
            await self._write(event, external_id)
            return False
        if found is None:
            await self._write(event, external_id)
            return False
        held = False
        if external_id is None and self.deps.directory is not None:
            # Created before the hub stopped, and never linked.
            await self.deps.directory.link(event.report_id, self.node_code, found.external_id)
            held = True
        if self.shows(found, event):
            return True
        await self.write_state(found.external_id, event)
        return held

    def _own_change(self, event: ReportEvent) -> bool:
        # The change came from the node's own system (pulled, or sent by its service
        # account): it already shows it. A change by the node's people through the
        # hub (e.g. the province's verifying admins) or by the hub's auto-close is
        # news to the node's system and is written like any other.
        return event.actor_node == self.node_code and event.actor_role is ActorRole.NODE_SYSTEM

    async def _write(self, event: ReportEvent, external_id: str | None) -> None:
        if external_id is None:
            external_id = await self._create_from_hub(event)
            if external_id is not None and not self.creates_with_state:
                await self.write_created(external_id, event)
            return
        await self.write_state(external_id, event)

    creates_with_state = False
    """True: ``create`` hands the node the event's whole write (state, note, event id)
    with the report, in one call, so no state write follows it and nothing the node's
    staff do once the report exists can be overwritten by the hub's second call."""

    async def write_created(self, external_id: str, event: ReportEvent) -> None:
        """The state write right after ``create``, for a kind whose creation cannot
        carry the state: the node's staff see the report from the moment it is
        created, so this second call is made only while the node still holds the
        report as created (Open311). By default the same as ``write_state``."""
        await self.write_state(external_id, event)

    async def _linked(self, event: ReportEvent) -> str | None:
        """The node's id for the report if the hub linked one after ``event`` was published."""
        directory = self.deps.directory
        if directory is None:
            return None
        return await directory.external_id(event.report_id, self.node_code)

    async def find(self, event: ReportEvent, external_id: str | None) -> NodeReport | None:
        """The event's report as the node shows it now, by ``external_id`` or, when the
        hub has none, by the hub's reference the node keeps; None: the node has no such
        report. Raises NotSupported when the node cannot be asked."""
        raise NotSupported(self.node_code, "looking reports up is not configured for this node")

    def shows(self, found: NodeReport, event: ReportEvent) -> bool:
        """Whether the node, as ``found``, already shows ``event``."""
        if found.events is not None:
            return event.event_id in found.events
        if event.previous_state is event.state:
            # A follow-up or a new disposition keeps the state: the label cannot tell
            # whether this one arrived, so it is sent again, under its key.
            return False
        if found.raw_state != self.config.status.to_external(event.state):
            return False
        wanted = event.institution_codes[-1] if event.institution_codes else None
        return wanted is None or found.institution in (None, wanted)

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
        """Creates the report in the node; must be idempotent on ``content.report_id``
        (sent as the node's hub reference, and as ``creation_key`` where a key fits).
        With ``creates_with_state`` it also writes ``event`` as ``write_state`` would."""
        raise NotSupported(self.node_code, "creating reports is not configured for this node")

    async def write_state(self, external_id: str, event: ReportEvent) -> None:
        """Makes the node show ``event.state`` in its own vocabulary."""
        raise NotImplementedError

    def category_for(self, topic_id: int) -> str | None:
        """The node's category for a hub topic (falling back to the parent topic)."""
        return self.config.topics.to_code(topic_id, _PARENTS.get(topic_id))
