"""CloudEvents binary mode: the headers DESIGN.md names, clear refusals, and one decode
per record for all the sinks of a hub."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from hub.store.database import Database
from hub.sync.memory import MemoryBus
from hub.sync.supervisor import SyncSupervisor
from schema import envelope
from schema.envelope import EnvelopeError, Headers, decode, encode
from schema.events import ExternalRef, ReportEvent
from schema.lifecycle import ReportState, Verb
from schema.nodes import NODES
from schema.report import ActorRole, ReportKind
from tests.doubles import RecordingSink


def _event() -> ReportEvent:
    return ReportEvent(
        event_id=str(uuid.uuid4()),
        report_id=str(uuid.uuid4()),
        version=2,
        verb=Verb.VERIFY,
        previous_state=ReportState.SUBMITTED,
        state=ReportState.VERIFIED,
        kind=ReportKind.ASPIRATION,
        region_code="16.04",
        origin_node="16.04",
        institution_codes=("pemda-16.04",),
        involved_nodes=("16.04", "lapor"),
        external_refs=(ExternalRef("16.04", "LHT-1"),),
        occurred_at=datetime(2026, 11, 28, 9, 30, tzinfo=UTC),
        actor_node="16.04",
        actor_role=ActorRole.INSTITUTION_ADMIN,
    )


def test_binary_mode_headers_and_round_trip() -> None:
    event = _event()
    envelope = encode(event)
    headers = dict(envelope.headers)
    assert headers == {
        "ce_specversion": b"1.0",
        "ce_id": event.event_id.encode(),
        "ce_source": b"/sp4n/nodes/16.04",
        "ce_type": b"id.go.sp4n.report.verified.v1",
        "ce_subject": event.report_id.encode(),
        "ce_time": b"2026-11-28T09:30:00+00:00",
        "content-type": b"application/json",
    }
    assert envelope.key == event.report_id.encode()
    assert decode(envelope.key, envelope.value, envelope.headers) == event


def test_a_traced_write_carries_the_cloudevents_tracing_extension() -> None:
    """The W3C trace context rides as ``ce_traceparent``/``ce_tracestate`` (the
    extension's attributes in binary mode); a record without it is the same event."""
    event = _event()
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    traced = encode(event, {"traceparent": parent, "tracestate": "sp4n=1"})
    plain = encode(event)
    assert traced.headers[: len(plain.headers)] == plain.headers
    assert traced.headers[len(plain.headers) :] == [
        ("ce_traceparent", parent.encode()),
        ("ce_tracestate", b"sp4n=1"),
    ]
    assert decode(traced.key, traced.value, traced.headers) == event
    assert envelope.trace_context(traced.headers) == {
        "traceparent": parent,
        "tracestate": "sp4n=1",
    }
    assert envelope.trace_context(plain.headers) == {}


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda k, v, h: (k, v, [x for x in h if x[0] != "ce_id"]), "missing CloudEvents headers"),
        (lambda k, v, h: (k, b"{not json", h), "not JSON"),
        (lambda k, v, h: (k, None, h), "no value"),
        (lambda k, v, h: (b"someone-else", v, h), "key"),
        (
            lambda k, v, h: (k, v, [(n, b"com.example.x" if n == "ce_type" else b) for n, b in h]),
            "not an SP4N report event",
        ),
        (
            lambda k, v, h: (k, json.dumps({**json.loads(v), "title": "x"}).encode(), h),
            "unknown fields",
        ),
        (
            lambda k, v, h: (k, json.dumps({**json.loads(v), "version": "2"}).encode(), h),
            "'version' must be int",
        ),
        (
            lambda k, v, h: (k, json.dumps({**json.loads(v), "state": "LOST"}).encode(), h),
            "malformed",
        ),
        (
            lambda k, v, h: (k, json.dumps({**json.loads(v), "verb": "ARCHIVE"}).encode(), h),
            "does not match",
        ),
    ],
)
def test_malformed_records_are_refused_with_the_reason(mutate: object, message: str) -> None:
    envelope = encode(_event())
    key, value, headers = mutate(envelope.key, envelope.value, envelope.headers)  # type: ignore[operator]
    with pytest.raises(EnvelopeError, match=message):
        decode(key, value, headers)


def test_the_sinks_of_one_hub_decode_each_record_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The 19 node sinks share one decoder: a record is parsed once per process,
    not once per sink; equal bytes at another offset are a record of their own."""
    sync = SyncSupervisor(
        Database("postgresql://never-opened"), MemoryBus(), [RecordingSink(n.code) for n in NODES]
    )
    decoders = {id(worker.decoder) for worker in sync.workers.values()}
    assert len(sync.workers) == 19
    assert len(decoders) == 1
    parsed: list[bytes | None] = []

    def counting(key: bytes | None, value: bytes | None, headers: Headers) -> ReportEvent:
        parsed.append(value)
        return decode(key, value, headers)

    monkeypatch.setattr(envelope, "decode", counting)
    records = [encode(_event()) for _ in range(3)]
    for worker in sync.workers.values():
        for offset, r in enumerate(records):
            event = worker.decoder.decode(("events", 0, offset), r.key, r.value, r.headers)
            assert event.event_id == dict(r.headers)["ce_id"].decode()
    assert parsed == [r.value for r in records]
    worker = next(iter(sync.workers.values()))
    worker.decoder.decode(("events", 0, 3), records[0].key, records[0].value, records[0].headers)
    assert len(parsed) == 4
