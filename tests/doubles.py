"""A sink that records what its node received: a test double (and the sync benchmark's).

It keeps every delivery, so a test can tell a lost event from one applied twice.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from schema.events import ReportEvent
from schema.nodes import NODES


@dataclass(slots=True)
class RecordingSink:
    node_code: str
    received: list[ReportEvent] = field(default_factory=list)
    fail_reports: set[str] = field(default_factory=set)
    """Report ids whose events this node refuses, to exercise retries and the DLQ."""

    async def apply(self, event: ReportEvent) -> None:
        if event.report_id in self.fail_reports:
            raise RuntimeError(f"node {self.node_code} refuses report {event.report_id}")
        self.received.append(event)

    async def reconcile(self, event: ReportEvent) -> bool:
        """A recording node can be asked what it holds: an event it received already
        is not recorded again."""
        if any(e.event_id == event.event_id for e in reversed(self.received)):
            return True
        await self.apply(event)
        return False

    def latest(self) -> dict[str, int]:
        """The newest version of each report this node holds."""
        held: dict[str, int] = {}
        for event in self.received:
            held[event.report_id] = max(held.get(event.report_id, 0), event.version)
        return held

    def applied_twice(self) -> list[str]:
        counts = Counter(event.event_id for event in self.received)
        return [event_id for event_id, n in counts.items() if n > 1]


def recording_sinks() -> list[RecordingSink]:
    """One recording sink per node, for ``create_app(..., sinks=...)``."""
    return [RecordingSink(node.code) for node in NODES]
