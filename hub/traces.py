"""Traces: OpenTelemetry spans from a request to every node's write-back.

Off unless an OTLP endpoint is configured (``Settings.otlp_endpoint``, the standard
``OTEL_EXPORTER_OTLP_ENDPOINT``): then ``Tracing.start`` (the composition root's
lifespan) turns on the process's tracer, exporting over OTLP/HTTP, and the
maintained instrumentations of asyncpg and aiohttp's client; the ASGI middleware
around the HTTP surface starts each request's span (``Tracing.middleware``).

A change carries its trace to the nodes in its Kafka record: the writer stores the
current span's W3C trace context with the outbox row as the CloudEvents
``traceparent`` extension (``ce_traceparent``, ``schema.envelope``), and the
relay's publish and each sink's apply continue that trace from the record. While
tracing is off ``on()`` is false and the callers skip all of it: no span, no header.
One tracer per process (the last ``Tracing`` started).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import (
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
)
from opentelemetry.trace import Link, SpanKind, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import Attributes
from starlette.middleware import Middleware

from schema.envelope import Envelope, Headers, trace_context

SERVICE = "sp4n-hub"
_PROPAGATOR = TraceContextTextMapPropagator()


class _Tracer:
    """The process's tracer: a no-op one until ``Tracing.start``."""

    tracer: Tracer = trace.NoOpTracer()
    on: bool = False


def on() -> bool:
    """Whether this process traces (an OTLP endpoint is configured and started)."""
    return _Tracer.on


def current_context() -> dict[str, str]:
    """The current span's W3C trace context (``traceparent``, ``tracestate``), for the
    record a write stores; empty while tracing is off or outside a span."""
    if not _Tracer.on:
        return {}
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier


def parent_of(headers: Headers) -> Context | None:
    """The trace context a record carries (its ``ce_traceparent``), if any."""
    found = trace_context(headers)
    if not found:
        return None
    return _PROPAGATOR.extract(found)


@contextlib.contextmanager
def span(
    name: str,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    parent: Context | None = None,
    attributes: Mapping[str, str | int] | None = None,
) -> Iterator[None]:
    """A span around the block (current inside it), under ``parent`` if given; nothing
    at all while tracing is off."""
    if not _Tracer.on:
        yield
        return
    with _Tracer.tracer.start_as_current_span(
        name, context=parent, kind=kind, attributes=dict(attributes or {})
    ):
        yield


@contextlib.contextmanager
def publishing(records: Sequence[Envelope], topic: str) -> Iterator[None]:
    """One producer span per traced record around the block (the relay's send of a
    batch), each in its record's trace; nothing while tracing is off."""
    if not _Tracer.on:
        yield
        return
    spans = []
    for record in records:
        parent = parent_of(record.headers)
        if parent is None:
            continue
        ids = dict(record.headers)
        attributes = {
            "messaging.system": "kafka",
            "messaging.operation.type": "send",
            "messaging.destination.name": topic,
            "messaging.message.id": ids.get("ce_id", b"").decode(),
            "sp4n.report_id": record.key.decode(errors="replace"),
        }
        spans.append(
            _Tracer.tracer.start_span(
                f"send {topic}", context=parent, kind=SpanKind.PRODUCER, attributes=attributes
            )
        )
    try:
        yield
    except BaseException as error:
        for each in spans:
            each.record_exception(error)
            each.set_status(trace.Status(trace.StatusCode.ERROR, str(error)))
        raise
    finally:
        for each in spans:
            each.end()


class _NoLoneClientCalls(Sampler):
    """Samples every root span but a lone client call: a query or HTTP call of a
    background loop outside any traced work (the relay's and sinks' polls) would be a
    trace of its own several times a second."""

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: Any = None,
    ) -> SamplingResult:
        if kind is SpanKind.CLIENT:
            return SamplingResult(Decision.DROP)
        return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes)

    def get_description(self) -> str:
        return "NoLoneClientCalls"


class Tracing:
    """The process's tracing, built by the composition root from the settings."""

    def __init__(self, exporter: SpanExporter | None, role: str = "") -> None:
        self.exporter = exporter
        attributes = {"service.name": SERVICE, **({"sp4n.roles": role} if role else {})}
        self.provider = (
            TracerProvider(
                sampler=ParentBased(root=_NoLoneClientCalls()),
                resource=Resource.create(attributes),
            )
            if exporter is not None
            else None
        )
        self._asyncpg = AsyncPGInstrumentor()  # type: ignore[no-untyped-call]
        self._aiohttp = AioHttpClientInstrumentor()

    @classmethod
    def otlp(cls, endpoint: str | None, role: str = "") -> Tracing:
        """Exports to ``endpoint`` (an OTLP/HTTP base URL, ``/v1/traces`` appended as the
        OpenTelemetry specification says); None: off."""
        if endpoint is None:
            return cls(None)
        # Imported here: the exporter pulls in requests and protobuf, unused while off.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return cls(OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces"), role)

    @property
    def enabled(self) -> bool:
        return self.provider is not None

    def middleware(self) -> list[Middleware]:
        """The HTTP surface's outermost middleware: each request's server span."""
        if self.provider is None:
            return []
        return [Middleware(OpenTelemetryMiddleware, tracer_provider=self.provider)]

    def start(self) -> None:
        """Exports from now on, and traces asyncpg's queries and aiohttp's calls (the
        connectors' sessions opened after this)."""
        if self.provider is None or self.exporter is None:
            return
        self.provider.add_span_processor(BatchSpanProcessor(self.exporter))
        self._asyncpg.instrument(tracer_provider=self.provider)
        self._aiohttp.instrument(tracer_provider=self.provider)
        _Tracer.tracer = self.provider.get_tracer(SERVICE)
        _Tracer.on = True

    def stop(self) -> None:
        """Exports what was recorded and turns the process's tracer off again."""
        if self.provider is None:
            return
        _Tracer.on = False
        _Tracer.tracer = trace.NoOpTracer()
        self._aiohttp.uninstrument()
        self._asyncpg.uninstrument()
        self.provider.shutdown()
