"""What an orchestrator and Prometheus ask of every hub process: ``/healthz``
(liveness), ``/readyz`` (readiness) and ``/metrics``. The API serves them beside
GraphQL; a worker started with a metrics port serves them alone (``sp4n-hub worker
--metrics-port``), with the same rules."""

from __future__ import annotations

import asyncio

import asyncpg
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from hub import metrics
from hub.store.database import Database
from hub.sync.bus import Bus, BusError
from hub.sync.supervisor import SyncSupervisor

PROBE_TIMEOUT = 1.0
"""How long /readyz waits for the database and the broker: it answers for this moment."""


async def _database_answers(url: str) -> str:
    """ "ok" if a fresh connection runs a statement now (a pooled one may outlive the
    server by a moment); else why not, for the operator."""
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            conn = await asyncpg.connect(url)
            try:
                await conn.fetchval("SELECT 1")
            finally:
                await conn.close()
    except Exception as error:  # any failure means "not ready"; the reason is shown
        return f"unreachable: {type(error).__name__}"
    return "ok"


async def _broker_answers(bus: Bus | None) -> str:
    if bus is None:
        return "off"
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            await bus.ping()
    except TimeoutError:
        return f"unreachable: no answer within {PROBE_TIMEOUT:g} s"
    except BusError as error:
        return f"unreachable: {error}"
    return "ok"


class Probes:
    """The three endpoints over one process's parts: its database (the pool, and its URL
    for a fresh connection), its sync loops (None when it runs none) and its metrics
    collector."""

    def __init__(
        self,
        db: Database,
        database_url: str,
        sync: SyncSupervisor | None,
        collector: metrics.HubCollector,
    ) -> None:
        self._db = db
        self._database_url = database_url
        self._sync = sync
        self._collector = collector

    async def healthz(self, request: Request) -> Response:
        # Liveness: only a loop that died of a fault a restart of this process may fix.
        # An outage of PostgreSQL or Kafka is readiness's business (/readyz).
        sync = self._sync
        if sync is not None and sync.failure is not None:
            return PlainTextResponse(f"sync failed: {sync.failure}", status_code=503)
        return PlainTextResponse("ok")

    async def readyz(self, request: Request) -> Response:
        database, broker = await asyncio.gather(
            _database_answers(self._database_url),
            _broker_answers(self._sync.bus if self._sync is not None else None),
        )
        ready = database == "ok" and broker in ("ok", "off")
        return JSONResponse(
            {"ready": ready, "database": database, "broker": broker},
            status_code=200 if ready else 503,
        )

    async def metrics(self, request: Request) -> Response:
        collector = self._collector
        collector.backlogs = await metrics.read_backlogs(self._db)
        return Response(metrics.render(collector), media_type="text/plain; version=0.0.4")

    def routes(self) -> list[Route]:
        return [
            Route("/healthz", self.healthz),
            Route("/readyz", self.readyz),
            Route("/metrics", self.metrics),
        ]
