"""Whatever the bus does (duplicates, reordering, any batching), a sink never moves a
report backwards and never applies one event twice."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from hub.store.database import Database
from hub.sync.bus import Message
from hub.sync.memory import MemoryBus
from hub.sync.sink import SinkWorker
from schema.envelope import encode
from schema.events import ReportEvent
from schema.lifecycle import ReportState, Verb
from schema.report import ActorRole, ReportKind
from tests.doubles import RecordingSink

STATES = [
    ReportState.SUBMITTED,
    ReportState.VERIFIED,
    ReportState.DISPOSED,
    ReportState.IN_FOLLOW_UP,
    ReportState.COMPLETED,
    ReportState.IN_FOLLOW_UP,
]


def _history(report_id: str, length: int) -> list[ReportEvent]:
    return [
        ReportEvent(
            event_id=str(uuid.uuid4()),
            report_id=report_id,
            version=v,
            verb=Verb.VERIFY,
            previous_state=None,
            state=STATES[v - 1],
            kind=ReportKind.ASPIRATION,
            region_code="16.71",
            origin_node="16.71",
            institution_codes=("pemda-16.71",),
            involved_nodes=("16.71", "lapor"),
            external_refs=(),
            occurred_at=datetime.now(UTC),
            actor_node="16.71",
            actor_role=ActorRole.INSTITUTION_ADMIN,
        )
        for v in range(1, length + 1)
    ]


deliveries = st.lists(st.integers(1, 6), min_size=1, max_size=3).flatmap(
    lambda lengths: st.tuples(
        st.just(lengths),
        st.lists(
            st.tuples(st.integers(0, len(lengths) - 1), st.integers(0, 5)),
            min_size=1,
            max_size=30,
        ),
        st.lists(st.integers(1, 8), min_size=1, max_size=10),
    )
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(plan=deliveries)
async def test_duplicated_and_reordered_deliveries_never_move_a_report_backwards(
    app: Starlette, plan: tuple[list[int], list[tuple[int, int]], list[int]]
) -> None:
    lengths, picks, cuts = plan
    histories = [_history(str(uuid.uuid4()), n) for n in lengths]
    # Any event may arrive, any number of times, in any order.
    stream = [histories[r][v % len(histories[r])] for r, v in picks]
    db: Database = app.state.database
    sink = RecordingSink("16.71")
    worker = SinkWorker(sink, MemoryBus(), db)
    position = 0
    cut = 0
    while position < len(stream):
        size = cuts[cut % len(cuts)]
        cut += 1
        batch = stream[position : position + size]
        position += size
        messages = []
        for offset, event in enumerate(batch, start=position - size):
            envelope = encode(event)
            messages.append(Message("t", 0, offset, envelope.key, envelope.value, envelope.headers))
        await worker.handle(messages)

    assert sink.applied_twice() == []
    for history in histories:
        rid = history[0].report_id
        applied = [e.version for e in sink.received if e.report_id == rid]
        assert applied == sorted(set(applied)), f"moved backwards: {applied}"
        delivered = {e.version for e in stream if e.report_id == rid}
        assert max(applied, default=0) == max(delivered, default=0)
