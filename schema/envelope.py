"""CloudEvents 1.0 in Kafka binary mode: the one codec for events on the wire.

The event's attributes travel as ``ce_*`` headers, its data as the JSON value,
and the report id as the key, so every event of one report shares a partition.
A traced change also carries CloudEvents' distributed tracing extension: the W3C
trace context of the write that made it (``ce_traceparent``, ``ce_tracestate``).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from schema.events import EVENT_TYPE_PREFIX, EventDataError, ReportEvent, parse_event

Headers = list[tuple[str, bytes]]

_REQUIRED = ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_subject", "ce_time")
TRACE_ATTRIBUTES = ("traceparent", "tracestate")
"""The CloudEvents distributed tracing extension's attributes (W3C Trace Context),
``ce_``-prefixed on a record like every attribute in binary mode."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """What one Kafka record carries."""

    key: bytes
    value: bytes
    headers: Headers


class EnvelopeError(ValueError):
    """A record that is not a valid SP4N CloudEvent; the message says why."""


def encode(event: ReportEvent, trace: Mapping[str, str] | None = None) -> Envelope:
    """The record of ``event``; ``trace``: the W3C trace context of the write, if traced."""
    headers: Headers = [
        ("ce_specversion", b"1.0"),
        ("ce_id", event.event_id.encode()),
        ("ce_source", f"/sp4n/nodes/{event.actor_node}".encode()),
        ("ce_type", event.type.encode()),
        ("ce_subject", event.report_id.encode()),
        ("ce_time", event.occurred_at.isoformat().encode()),
        ("content-type", b"application/json"),
    ]
    if trace:
        headers += [(f"ce_{n}", trace[n].encode()) for n in TRACE_ATTRIBUTES if n in trace]
    value = json.dumps(event.data(), separators=(",", ":")).encode()
    return Envelope(event.report_id.encode(), value, headers)


def trace_context(headers: Headers) -> dict[str, str]:
    """The W3C trace context a record carries (``traceparent``, ``tracestate``)."""
    wanted = {f"ce_{n}": n for n in TRACE_ATTRIBUTES}
    return {
        wanted[name]: value.decode(errors="replace") for name, value in headers if name in wanted
    }


def decode(key: bytes | None, value: bytes | None, headers: Headers) -> ReportEvent:
    """Parses a record; raises EnvelopeError naming what is wrong."""
    found = dict(headers)
    missing = [name for name in _REQUIRED if name not in found]
    if missing:
        raise EnvelopeError(f"missing CloudEvents headers: {', '.join(missing)}")
    if found["ce_specversion"] != b"1.0":
        raise EnvelopeError(f"unsupported ce_specversion {found['ce_specversion']!r}")
    event_type = found["ce_type"].decode(errors="replace")
    if not event_type.startswith(EVENT_TYPE_PREFIX):
        raise EnvelopeError(f"ce_type {event_type!r} is not an SP4N report event")
    if value is None:
        raise EnvelopeError("the record has no value")
    try:
        data = json.loads(value)
        event = parse_event(found["ce_id"].decode(), data)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise EnvelopeError(f"the value is not JSON: {error}") from None
    except EventDataError as error:
        raise EnvelopeError(str(error)) from None
    if event.type != event_type:
        raise EnvelopeError(f"ce_type {event_type!r} does not match the data ({event.type})")
    if key is not None and key.decode(errors="replace") != event.report_id:
        raise EnvelopeError("the record key is not the event's report id")
    try:
        datetime.fromisoformat(found["ce_time"].decode())
    except ValueError:
        raise EnvelopeError(f"ce_time {found['ce_time']!r} is not an ISO 8601 time") from None
    return event


class SharedDecoder:
    """Decodes each record once per process, however many sinks read it.

    The 19 node sinks of one hub read the same records; parsing the JSON 19
    times was the largest cost of the sync path. Keyed by the record's place
    in the log, so equal bytes at another offset are decoded again.
    """

    def __init__(self, capacity: int = 50_000) -> None:
        self._capacity = capacity
        self._cache: OrderedDict[tuple[str, int, int], ReportEvent | EnvelopeError] = OrderedDict()

    def decode(
        self,
        where: tuple[str, int, int],
        key: bytes | None,
        value: bytes | None,
        headers: Headers,
    ) -> ReportEvent:
        found = self._cache.get(where)
        if found is None:
            try:
                found = decode(key, value, headers)
            except EnvelopeError as error:
                found = error
            self._cache[where] = found
            if len(self._cache) > self._capacity:
                self._cache.popitem(last=False)
        if isinstance(found, EnvelopeError):
            raise found
        return found
