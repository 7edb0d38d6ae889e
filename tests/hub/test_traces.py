"""One mutation's trace, followed to every involved node's write-back, and log lines as
JSON objects carrying the ids of what they are about.

The hub exports its spans over OTLP/HTTP, as to a real collector, to a receiver here
that decodes the protobuf with the OpenTelemetry project's own ``opentelemetry-proto``;
the events travel through the real broker, and the nodes are the sandbox's systems.
"""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import logging
import random
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.config import NodeTable
from connectors.sandbox.sandbox import LAYOUT, Sandbox
from hub import wiring
from hub.app import create_app
from hub.errors import ConfigError
from hub.logs import JsonLines, bound, use_json_lines
from hub.settings import Settings, SyncMode
from tests.fixtures.app import GraphQLClient, serving, token_for
from tests.fixtures.kafka import records_on
from tests.hub.connectors.journeys import first_pulls_in
from tests.hub.operations import SUBMIT

NODES = {"16", "16.07", "lapor"}
"""A province admin's report in Ogan Komering Ulu Selatan's region (16.07): the province
(where its admin acts), the regency and the national SP4N-LAPOR! hear of it."""
REPORT = {
    "kind": "COMPLAINT", "complaintSubKind": "NON_SUPERVISORY", "regionCode": "16.07",
    "topicId": 301, "channel": "MOBILE_APP",
    "title": "Lampu jalan padam di Muaradua",
    "content": "Sudah dua minggu lampu jalan di depan pasar padam.",
}  # fmt: skip


class OtlpReceiver:
    """A collector's OTLP/HTTP trace endpoint (``POST /v1/traces``, protobuf): keeps
    every span it is sent."""

    def __init__(self) -> None:
        self.spans: list[Span] = []
        self.app = Starlette(routes=[Route("/v1/traces", self._export, methods=["POST"])])

    async def _export(self, request: Request) -> Response:
        body = await request.body()
        if request.headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        export = ExportTraceServiceRequest.FromString(body)
        for resource in export.resource_spans:
            for scope in resource.scope_spans:
                self.spans.extend(scope.spans)
        return Response(
            ExportTraceServiceResponse().SerializeToString(), media_type="application/x-protobuf"
        )

    def trace(self, trace_id: str) -> list[Span]:
        return [s for s in self.spans if s.trace_id.hex() == trace_id]


def _attributes(span: Span) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in span.attributes:
        kind = item.value.WhichOneof("value")
        found[item.key] = getattr(item.value, kind) if kind else None
    return found


def _ancestors(span: Span, spans: list[Span]) -> Iterator[Span]:
    by_id = {s.span_id: s for s in spans}
    while span.parent_span_id in by_id:
        span = by_id[span.parent_span_id]
        yield span


class Lines(logging.Handler):
    """Log lines as ``JsonLines`` writes them, parsed back."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonLines())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def parsed(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines]


@pytest.fixture
def log_lines() -> Iterator[Lines]:
    """The write path's and the sinks' lines, at DEBUG (each write, each apply)."""
    handler = Lines()
    loggers = [logging.getLogger(n) for n in ("hub.domain.service", "hub.sync.sink")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
    yield handler
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)


def _traced(settings: Settings, kafka_bootstrap: str, otlp_url: str) -> Settings:
    """The hub with its connectors and the real broker, exporting its spans to ``otlp_url``."""
    return replace(
        settings,
        sync=SyncMode.KAFKA,
        kafka_bootstrap_servers=kafka_bootstrap,
        kafka_partitions=3,
        kafka_topic_prefix=f"t{uuid.uuid4().hex[:10]}.",
        pool_max_size=8,
        connectors=True,
        otlp_endpoint=otlp_url,
    )


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[OtlpReceiver, str]]:
    otlp = OtlpReceiver()
    async with serving(otlp.app) as url:
        yield otlp, url


async def test_one_mutations_trace_reaches_every_involved_nodes_write_back(
    settings: Settings,
    kafka_bootstrap: str,
    table: NodeTable,
    sandbox: Sandbox,
    receiver: tuple[OtlpReceiver, str],
    log_lines: Lines,
) -> None:
    otlp, otlp_url = receiver
    traced = _traced(settings, kafka_bootstrap, otlp_url)
    prefix = traced.kafka_topic_prefix
    nodes = table.only(NODES)
    app = create_app(traced, node_table=nodes)
    # The caller's own trace: the hub continues it (W3C traceparent on the request).
    trace_id, caller_span = secrets.token_hex(16), secrets.token_hex(8)
    async with serving(app) as hub_url, httpx.AsyncClient(base_url=hub_url) as http:
        token = await token_for(app, "test-admin", "16", ["province:admin"])
        client = GraphQLClient(http, token)
        client.headers |= {
            "traceparent": f"00-{trace_id}-{caller_span}-01",
            "x-request-id": "req-traces-1",
        }
        response = await http.post(
            "/graphql",
            json={"query": SUBMIT, "variables": {"key": uuid.uuid4().hex, "input": REPORT}},
            headers=client.headers,
        )
        assert response.status_code == 200, response.text
        assert "errors" not in response.json(), response.json()
        assert response.headers["x-request-id"] == "req-traces-1"
        report_id = response.json()["data"]["submitReport"]["id"]

        def applied_everywhere() -> bool:
            spans = otlp.trace(trace_id)
            applies = [s for s in spans if s.name.startswith("apply ")]
            return {_attributes(s).get("sp4n.node") for s in applies} >= NODES and all(
                any(a.span_id == apply.span_id for a in _ancestors(s, spans))
                for apply in applies
                for s in spans
                if s.kind == Span.SPAN_KIND_CLIENT and s.parent_span_id == apply.span_id
            )

        deadline = asyncio.get_running_loop().time() + 90
        while not applied_everywhere():
            assert asyncio.get_running_loop().time() < deadline, (
                "the write-backs' spans did not arrive: "
                f"{sorted({s.name for s in otlp.trace(trace_id)})}"
            )
            await asyncio.sleep(0.25)
        # Let the last HTTP calls' spans be exported too.
        await asyncio.sleep(6)
    spans = otlp.trace(trace_id)

    # The request's span continues the caller's trace ...
    [server] = [s for s in spans if s.kind == Span.SPAN_KIND_SERVER]
    assert server.parent_span_id.hex() == caller_span
    assert "/graphql" in server.name
    # ... the write runs under it, its statements traced by the asyncpg instrumentation ...
    [write] = [s for s in spans if s.name == "report SUBMIT"]
    assert server in _ancestors(write, spans)
    queries = [s for s in spans if _attributes(s).get("db.system") == "postgresql"]
    assert [q for q in queries if write in _ancestors(q, spans)]
    # ... the relay's send of its record continues the write's trace ...
    [send] = [s for s in spans if s.kind == Span.SPAN_KIND_PRODUCER]
    assert send.name == f"send {prefix}sp4n.report-events.v1"
    assert send.parent_span_id == write.span_id
    assert _attributes(send)["sp4n.report_id"] == report_id
    # ... and so does each involved node's apply, with its connector's HTTP call in it.
    for node in NODES:
        [apply] = [s for s in spans if s.name == f"apply {node}"]
        assert apply.kind == Span.SPAN_KIND_CONSUMER
        assert apply.parent_span_id == write.span_id
        calls = [
            s
            for s in spans
            if s.kind == Span.SPAN_KIND_CLIENT
            and apply in _ancestors(s, spans)
            and any(str(v).startswith(sandbox.url(LAYOUT[node])) for v in _attributes(s).values())
        ]
        assert calls, f"no HTTP call to node {node}'s system in its apply span"

    # The Kafka record carries the write's trace context (CloudEvents traceparent).
    records = await records_on(kafka_bootstrap, f"{prefix}sp4n.report-events.v1", 3)
    [record] = [r for r in records if r.key == report_id.encode()]
    headers = dict(record.headers)
    version, record_trace, record_span, flags = headers["ce_traceparent"].decode().split("-")
    assert (version, record_trace, record_span, flags) == (
        "00",
        trace_id,
        write.span_id.hex(),
        "01",
    )
    assert set(json.loads(record.value)["involvedNodes"]) == NODES

    # The log lines carry the ids: the write's its request and report, each apply its
    # event, report and node; all of them the trace.
    lines = log_lines.parsed()
    [wrote] = [line for line in lines if line["logger"] == "hub.domain.service"]
    assert wrote["request_id"] == "req-traces-1"
    assert wrote["report_id"] == report_id
    assert wrote["trace_id"] == trace_id
    event_id = headers["ce_id"].decode()
    appliers = [line for line in lines if line.get("event_id") == event_id]
    assert {line["node"] for line in appliers} == NODES
    assert {(line["report_id"], line["trace_id"]) for line in appliers} == {(report_id, trace_id)}


async def test_a_pulled_changes_trace_starts_at_its_pull_and_reaches_the_other_nodes(
    settings: Settings,
    kafka_bootstrap: str,
    table: NodeTable,
    sandbox: Sandbox,
    receiver: tuple[OtlpReceiver, str],
) -> None:
    """Staff at the regency move a report on in their own system: the hub's pull pass of
    that node is a span, its HTTP call and the write of the change run in it, and every
    involved node's write-back continues its trace."""
    otlp, otlp_url = receiver
    traced = _traced(settings, kafka_bootstrap, otlp_url)
    app = create_app(traced, node_table=table.only(NODES))
    async with serving(app):
        await first_pulls_in(app, sorted(NODES))
        moved = sandbox.systems["16.07"].advance(random.Random(16))
        assert moved is not None
        report_id = str(
            await app.state.database.pool.fetchval(
                "SELECT report_id FROM external_refs WHERE node_code = '16.07'"
                " AND external_id = $1",
                moved.id,
            )
        )

        def trace_of_the_change() -> list[Span] | None:
            """The trace of the pulled change's write, once SP4N-LAPOR!'s apply is in it."""
            for write in otlp.spans:
                if _attributes(write).get("sp4n.report_id") == report_id:
                    spans = otlp.trace(write.trace_id.hex())
                    if any(s.name == "apply lapor" for s in spans):
                        return spans
            return None

        deadline = asyncio.get_running_loop().time() + 90
        while (spans := trace_of_the_change()) is None:
            assert asyncio.get_running_loop().time() < deadline, (
                f"no trace of report {report_id}'s pulled change reached SP4N-LAPOR!: "
                f"{sorted({s.name for s in otlp.spans})}"
            )
            await asyncio.sleep(0.25)
        await asyncio.sleep(6)  # the other applies' and the last HTTP calls' spans
        spans = otlp.trace(spans[0].trace_id.hex())
    topic = f"{traced.kafka_topic_prefix}sp4n.report-events.v1"
    records = [
        r for r in await records_on(kafka_bootstrap, topic, 3) if r.key == report_id.encode()
    ]
    involved = set(json.loads(records[-1].value)["involvedNodes"])

    # The trace's root is the pull pass of the node where the change was made ...
    [pull] = [s for s in spans if not s.parent_span_id]
    assert pull.name == "pull 16.07"
    assert _attributes(pull) == {"sp4n.node": "16.07", "sp4n.first_pull": 0}
    # ... with the HTTP call that read the change from the node's system in it ...
    reads = [
        s
        for s in spans
        if s.kind == Span.SPAN_KIND_CLIENT
        and any(str(v).startswith(sandbox.url(LAYOUT["16.07"])) for v in _attributes(s).values())
        and s.parent_span_id == pull.span_id
    ]
    assert reads
    # ... and the write of the change, whose record every involved node's apply continues.
    [write] = [s for s in spans if s.name.startswith("report ")]
    assert write.parent_span_id == pull.span_id
    assert _attributes(write)["sp4n.actor_node"] == "16.07"
    applies = [s for s in spans if s.name.startswith("apply ")]
    assert {_attributes(s)["sp4n.node"] for s in applies} == involved
    assert all(s.parent_span_id == write.span_id for s in applies)


async def test_log_lines_are_json_with_the_request_and_report_ids(
    app: Starlette, gql: GraphQLClient, log_lines: Lines
) -> None:
    """Without tracing: the ids, and no trace ids."""
    key = uuid.uuid4().hex
    body = {"query": SUBMIT, "variables": {"key": key, "input": REPORT}}
    response = await gql.http.post(
        "/graphql", json=body, headers={**gql.headers, "x-request-id": "req-logs-1"}
    )
    assert response.headers["x-request-id"] == "req-logs-1"
    report_id = response.json()["data"]["submitReport"]["id"]
    [line] = log_lines.parsed()
    assert line["level"] == "DEBUG"
    assert line["logger"] == "hub.domain.service"
    assert (line["request_id"], line["report_id"]) == ("req-logs-1", report_id)
    assert "SUBMIT" in line["message"]
    assert "trace_id" not in line
    # A request without an id, or with one that is not a plain token, is given one.
    for given in ({}, {"x-request-id": "two words\tand a tab"}):
        body["variables"] = {"key": uuid.uuid4().hex, "input": REPORT}
        again = await gql.http.post("/graphql", json=body, headers={**gql.headers, **given})
        new_id = again.headers["x-request-id"]
        assert len(new_id) == 32
        assert new_id not in ("req-logs-1", "two words\tand a tab")
        assert log_lines.parsed()[-1]["request_id"] == new_id


def test_tracing_is_off_unless_an_otlp_endpoint_is_configured_and_the_banner_says_so() -> None:
    off = Settings.from_env({})
    assert off.otlp_endpoint is None
    assert not wiring.tracing(off).enabled
    assert wiring.tracing_line(off).startswith("tracing: off")
    on = Settings.from_env({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel:s3cret@collector:4318"})
    assert wiring.tracing(on).enabled
    line = wiring.tracing_line(on)
    assert line.startswith("tracing: on")
    assert "collector:4318" in line
    assert "s3cret" not in line
    assert Settings.from_env({"SP4N_LOG_FORMAT": "json"}).log_json


@pytest.mark.parametrize(
    ("variable", "value"),
    [("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317"), ("SP4N_LOG_FORMAT", "xml")],
)
def test_a_bad_tracing_or_log_setting_names_its_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        Settings.from_env({variable: value})


def test_sp4n_log_format_json_turns_the_processs_lines_into_json_objects() -> None:
    """What ``sp4n-hub`` does with ``SP4N_LOG_FORMAT=json``: the root's handlers write
    JSON lines, with the ids bound where the line was logged."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    formatters = [(h, h.formatter) for h in root.handlers]  # pytest's own handlers too
    try:
        use_json_lines()
        with bound(node="16.71", event_id="e-1"), bound(report_id="r-1", node="lapor"):
            logging.getLogger("hub.sync.sink").warning("node %s refused", "lapor")
    finally:
        root.removeHandler(handler)
        for each, formatter in formatters:
            each.setFormatter(formatter)
    line = json.loads(stream.getvalue())
    assert line["message"] == "node lapor refused"
    assert line["level"] == "WARNING"
    assert (line["node"], line["event_id"], line["report_id"]) == ("lapor", "e-1", "r-1")
