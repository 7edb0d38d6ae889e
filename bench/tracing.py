"""What tracing costs the sync path: ``bench.sync_throughput``'s hub phases with
tracing off and on, alternating, in one run.

``python -m bench.tracing [--quick] [--rounds N]`` starts an embedded PostgreSQL and
a real Kafka broker, and an OTLP/HTTP receiver on loopback in a process of its own
that decodes and counts what it is sent (a collector that keeps nothing). Each round
builds the hub as ``bench.sync_throughput`` does (19 recording sinks, a fresh
database and topics) twice, once as it ships (tracing off) and once with
``OTEL_EXPORTER_OTLP_ENDPOINT`` pointed at the receiver, and runs ``measure_hub``:
the sustained burst, then the fixed rates. Every span is exported over HTTP from the
hub's process, so the exporter's work is in the figure. The sinks are the tests'
recording doubles: no connector HTTP call is traced here. Results go to
``bench/RESULTS.md`` (section "tracing").
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import socket
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, replace

import httpx
import uvicorn
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.harness import ROOT, CpuMeter, load_average, machine_facts, say, write_section
from bench.sync_throughput import (
    FULL,
    QUICK,
    Paced,
    Plan,
    Throughput,
    fresh_database,
    hub_app,
    hub_settings,
    measure_hub,
)
from hub.settings import Settings, SyncMode
from hub.sync.kafka import FETCH
from infra.kafka import KafkaBroker
from infra.postgres import EmbeddedPostgres

POSTGRES_DIR = ROOT / ".sp4n" / "bench-tracing-postgres"
KAFKA_DIR = ROOT / ".sp4n" / "bench-tracing-kafka"


class SpanCounter:
    """An OTLP/HTTP trace endpoint that decodes each export and counts its spans."""

    def __init__(self) -> None:
        self.spans = 0
        self.app = Starlette(
            routes=[
                Route("/v1/traces", self._export, methods=["POST"]),
                Route("/count", self._count),
            ]
        )

    async def _count(self, request: Request) -> Response:
        return Response(str(self.spans))

    async def _export(self, request: Request) -> Response:
        export = ExportTraceServiceRequest.FromString(await request.body())
        self.spans += sum(len(s.spans) for r in export.resource_spans for s in r.scope_spans)
        return Response(
            ExportTraceServiceResponse().SerializeToString(), media_type="application/x-protobuf"
        )


@contextlib.asynccontextmanager
async def _receiver() -> AsyncIterator[str]:
    """The receiver in a process of its own (as a collector would be), on a free port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.tracing", "--receiver", str(port), cwd=ROOT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(200):
                with contextlib.suppress(httpx.TransportError):
                    await http.get(f"{url}/count")
                    break
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError("the OTLP receiver did not start")
        yield url
    finally:
        process.terminate()
        await process.wait()


async def _spans(url: str) -> int:
    async with httpx.AsyncClient() as http:
        return int((await http.get(f"{url}/count")).text)


@dataclass(frozen=True, slots=True)
class Round:
    traced: bool
    hub: Throughput
    light: Paced
    paced: Paced
    spans: int


async def run(plan: Plan, rounds: int) -> list[Round]:
    postgres = EmbeddedPostgres(POSTGRES_DIR, durable=False)
    broker = KafkaBroker(KAFKA_DIR)
    say("starting PostgreSQL and the Kafka broker")
    server_url, bootstrap = await asyncio.gather(
        asyncio.to_thread(postgres.start), broker.start_async()
    )
    done: list[Round] = []
    try:
        async with _receiver() as otlp:
            postmaster = int((postgres.pgdata / "postmaster.pid").read_text().split()[0])
            meter = CpuMeter(postmaster, broker.pid)
            for n in range(rounds):
                for traced in (False, True):
                    url, _ = await fresh_database(server_url)
                    prefix = f"benchtr{uuid.uuid4().hex[:8]}."
                    settings: Settings = hub_settings(
                        url, bootstrap, prefix, SyncMode.KAFKA, Settings.pool_max_size
                    )
                    if traced:
                        settings = replace(settings, otlp_endpoint=otlp)
                    say(f"round {n + 1}: tracing {'on' if traced else 'off'}")
                    before = await _spans(otlp)
                    app = hub_app(settings, FETCH)
                    async with app.router.lifespan_context(app):
                        hub, light, paced = await measure_hub(plan, app, meter, None)
                    # The lifespan's end flushed the exporter.
                    done.append(Round(traced, hub, light, paced, await _spans(otlp) - before))
    finally:
        say("stopping the Kafka broker and PostgreSQL")
        await broker.stop_async()
        await asyncio.to_thread(postgres.stop)
    return done


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f}"


def report(plan: Plan, rounds: list[Round], facts: dict[str, str]) -> str:
    off = [r for r in rounds if not r.traced]
    on = [r for r in rounds if r.traced]

    def median(values: list[float]) -> float:
        return statistics.median(values)

    rows = []
    figures: tuple[tuple[str, Callable[[Round], float], str], ...] = (
        ("sustained: changes/s applied at every involved node", lambda r: r.hub.rate, "{:,.0f}"),
        ("sustained: commits/s", lambda r: r.hub.count / r.hub.handed_over, "{:,.0f}"),
        (
            f"{plan.light_rate}/s: commit to last apply, p50 ms",
            lambda r: r.light.latency.p50 * 1000,
            "{:,.1f}",
        ),
        (
            f"{plan.rate}/s: commit to last apply, p50 ms",
            lambda r: r.paced.latency.p50 * 1000,
            "{:,.1f}",
        ),
        (
            f"{plan.rate}/s: commit to last apply, p99 ms",
            lambda r: r.paced.latency.p99 * 1000,
            "{:,.1f}",
        ),
    )
    for name, of, fmt in figures:
        a, b = median([of(r) for r in off]), median([of(r) for r in on])
        rows.append(f"| {name} | {fmt.format(a)} | {fmt.format(b)} | {b / a:.2f} |")
    writes = [
        (median([r.paced.write.p50 for r in group if r.paced.write is not None]))
        for group in (off, on)
    ]
    rows.append(
        f"| {plan.rate}/s: `execute` (the write), p50 ms | {_ms(writes[0])} | {_ms(writes[1])} "
        f"| {writes[1] / writes[0]:.2f} |"
    )
    spans = [r.spans for r in on]
    changes = plan.warmup + plan.changes + plan.light + plan.paced
    command = f"python -m bench.tracing{' --quick' if plan.name == 'quick' else ''}"
    machine = f"{facts['nproc']} × {facts['cpu']}, Python {facts['python']}"
    load = f"load {facts['load before']} before, {facts['load after']} after"
    listed = ", ".join(f"{s:,}" for s in spans)
    return f"""## Tracing's cost (`{command}`)

{facts["date"]}, {machine}; {load}; {facts["packages"]}.
Hub as `bench.sync_throughput` builds it (`create_app(Settings(sync=KAFKA))`, 19 recording
sinks, the shipped pool and fetch settings), {len(off)} rounds of each, off and on
alternating, each on a fresh database and topics; on: `OTEL_EXPORTER_OTLP_ENDPOINT` at an
OTLP/HTTP receiver on loopback (decodes and counts), so the spans' export is in the figures.
{changes:,} changes a round; medians over the rounds; no change lost or doubled (the
phases fail the run otherwise). Spans exported per traced round: {listed}
(the write, its SQL statements, the relay's send, each involved node's apply).

| figure | tracing off | tracing on | on / off |
|---|---|---|---|
{chr(10).join(rows)}
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tracing", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="bench.sync_throughput's quick plan")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of off and on (default 2)")
    parser.add_argument("--no-write", action="store_true", help="do not touch bench/RESULTS.md")
    parser.add_argument("--receiver", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.receiver is not None:
        uvicorn.run(SpanCounter().app, host="127.0.0.1", port=args.receiver, log_level="warning")
        return 0
    plan = QUICK if args.quick else FULL
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    started = time.perf_counter()
    facts = machine_facts(("asyncpg", "aiokafka", "opentelemetry-sdk"))
    facts["load before"] = load_average()
    rounds = asyncio.run(run(plan, args.rounds))
    facts["load after"] = load_average()
    section = report(plan, rounds, facts)
    if not args.no_write:
        write_section(f"tracing {plan.name}", section)
    print(section)
    say(f"done in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
