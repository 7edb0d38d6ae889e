"""The subscription root: life-cycle events as they cross the bus."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry

from hub.api.context import Info
from hub.errors import BadInput
from hub.sync.broadcast import EventFilter
from schema.events import ReportEvent
from schema.lifecycle import ReportState, Verb
from schema.report import ActorRole, ReportKind


@strawberry.type(description="One life-cycle event; like every event, it holds no report content.")
class ReportEventMessage:
    event_id: strawberry.ID
    report_id: strawberry.ID
    version: int
    verb: Verb
    previous_state: ReportState | None
    state: ReportState
    kind: ReportKind
    region_code: str
    origin_node: str
    institution_codes: list[str]
    occurred_at: datetime
    actor_node: str
    actor_role: ActorRole

    @classmethod
    def from_event(cls, e: ReportEvent) -> ReportEventMessage:
        return cls(
            event_id=strawberry.ID(e.event_id),
            report_id=strawberry.ID(e.report_id),
            version=e.version,
            verb=e.verb,
            previous_state=e.previous_state,
            state=e.state,
            kind=e.kind,
            region_code=e.region_code,
            origin_node=e.origin_node,
            institution_codes=list(e.institution_codes),
            occurred_at=e.occurred_at,
            actor_node=e.actor_node,
            actor_role=e.actor_role,
        )


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Events from now on, optionally for one region or institution."
    )
    async def report_events(
        self,
        info: Info,
        region_code: str | None = None,
        institution_code: str | None = None,
    ) -> AsyncGenerator[ReportEventMessage, None]:
        sync = info.context.sync
        if sync is None:
            raise BadInput("this hub runs without sync (SP4N_SYNC=off): no events to follow")
        viewer = info.context.viewer
        db = info.context.db
        async for event in sync.broadcaster.subscribe(EventFilter(region_code, institution_code)):
            # Events hold no content, but even the existence of a confidential report
            # is not for the public or uninvolved nodes (privacy.py).
            if not viewer.sees_everything:
                row = await db.fetchrow("report_visibility", uuid.UUID(event.report_id))
                if row is None or not viewer.may_see_report(row["confidential"], row["nodes"]):
                    continue
            yield ReportEventMessage.from_event(event)
