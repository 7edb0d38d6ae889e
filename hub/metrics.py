"""``/metrics`` in the Prometheus text format, read live from the running parts."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from connectors.federation import Federation
from connectors.resilience import CircuitState
from hub.api.cache import ResponseCache
from hub.outages import is_outage
from hub.store.database import Database
from hub.store.retention import Retention
from hub.sync.supervisor import SyncSupervisor


@dataclass(frozen=True, slots=True)
class Backlogs:
    """What waits as one scrape found it: None when the database did not answer."""

    outbox: int | None = None
    outbox_oldest_seconds: float = 0.0
    unsealed_audit: int | None = None
    unsealed_audit_oldest_seconds: float = 0.0
    projection_lag_seconds: float = 0.0
    projection_waiting: int = 0


_SCRAPE_TIMEOUT = 1.0


async def read_backlogs(db: Database) -> Backlogs:
    """Reads the backlogs for a scrape; a database that does not answer in a second is down."""
    try:
        async with asyncio.timeout(_SCRAPE_TIMEOUT):
            outbox = await db.fetchrow("outbox_backlog")
            audit = await db.fetchrow("audit_pending")
            projection = await db.fetchrow("projection_state")
    except Exception as error:
        if not (is_outage(error) or isinstance(error, TimeoutError)):
            raise
        return Backlogs()
    assert outbox is not None
    assert audit is not None
    assert projection is not None
    return Backlogs(
        outbox["rows"],
        outbox["oldest_seconds"],
        audit["entries"],
        audit["oldest_seconds"],
        projection["lag_seconds"],
        projection["waiting"],
    )


class HubCollector(Collector):
    """Collects on scrape; nothing is counted twice and no global registry is used."""

    def __init__(
        self,
        db: Database,
        sync: SyncSupervisor | None,
        cache: ResponseCache | None = None,
        retention: Retention | None = None,
        federation: Federation | None = None,
    ) -> None:
        self._db = db
        self._sync = sync
        self._cache = cache
        self._retention = retention
        self._federation = federation
        self.backlogs = Backlogs()
        """Set by the endpoint before each scrape (it needs queries; collect() is sync)."""

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily(
            "sp4n_sql_statements",
            "Named SQL statements run by the read path.",
            value=self._db.statements.count,
        )
        yield from self._cache_metrics()
        yield from self._retention_metrics()
        b = self.backlogs
        yield GaugeMetricFamily(
            "sp4n_database_up",
            "1 if PostgreSQL answered this scrape's backlog queries within a second.",
            value=0 if b.outbox is None else 1,
        )
        if b.outbox is not None and b.unsealed_audit is not None:
            yield GaugeMetricFamily(
                "sp4n_outbox_backlog",
                "Committed changes not yet published to Kafka.",
                value=b.outbox,
            )
            yield GaugeMetricFamily(
                "sp4n_outbox_oldest_unpublished_seconds",
                "How long the oldest unpublished outbox row has waited (0 when none).",
                value=b.outbox_oldest_seconds,
            )
            yield GaugeMetricFamily(
                "sp4n_audit_unsealed",
                "Audit entries the sealer has not chained yet.",
                value=b.unsealed_audit,
            )
            yield GaugeMetricFamily(
                "sp4n_audit_seal_lag_seconds",
                "How long the oldest unsealed audit entry has waited (0 when none).",
                value=b.unsealed_audit_oldest_seconds,
            )
            yield GaugeMetricFamily(
                "sp4n_ministry_projection_lag_seconds",
                "How far the ministry figures are behind now: every change committed "
                "before now minus this is counted.",
                value=b.projection_lag_seconds,
            )
            yield GaugeMetricFamily(
                "sp4n_ministry_projection_waiting",
                "Outbox rows at or beyond the projection's horizon (not yet projected, "
                "or projected while an older transaction was still running).",
                value=b.projection_waiting,
            )
        yield from self._circuit_metrics()
        if self._sync is None:
            return
        lag = GaugeMetricFamily(
            "sp4n_sink_lag", "Events not yet read by a node sink.", labels=["node"]
        )
        applied = CounterMetricFamily(
            "sp4n_sink_applied", "Events applied to a node.", labels=["node"]
        )
        dead = CounterMetricFamily(
            "sp4n_sink_dead_lettered", "Events sent to the DLQ.", labels=["node"]
        )
        in_doubt = CounterMetricFamily(
            "sp4n_sink_reconciled",
            "Events sent to a node before with no outcome recorded, reconciled with it.",
            labels=["node"],
        )
        held = CounterMetricFamily(
            "sp4n_sink_duplicates_prevented",
            "Reconciled events the node already held (in part): not applied again.",
            labels=["node"],
        )
        dropped = CounterMetricFamily(
            "sp4n_sink_duplicates_dropped",
            "Redelivered events the sink's inbox had recorded as settled: dropped.",
            labels=["node"],
        )
        stale = CounterMetricFamily(
            "sp4n_sink_stale_dropped",
            "Events older than the report's version the node holds: dropped (version guard).",
            labels=["node"],
        )
        for node, worker in sorted(self._sync.workers.items()):
            lag.add_metric([node], worker.stats.lag)
            applied.add_metric([node], worker.stats.applied)
            dead.add_metric([node], worker.stats.dead_lettered)
            in_doubt.add_metric([node], worker.stats.in_doubt)
            held.add_metric([node], worker.stats.held)
            dropped.add_metric([node], worker.stats.duplicates)
            stale.add_metric([node], worker.stats.stale)
        yield lag
        yield applied
        yield dead
        yield in_doubt
        yield held
        yield dropped
        yield stale
        if self._sync.relay is not None:
            yield CounterMetricFamily(
                "sp4n_outbox_published",
                "Outbox rows published by this process.",
                value=self._sync.relay.published,
            )

    def _retention_metrics(self) -> Iterator[Metric]:
        if self._retention is None:
            return
        deleted = CounterMetricFamily(
            "sp4n_retention_rows_deleted",
            "Rows the retention jobs deleted (audit_log: moved into archived segments).",
            labels=["table"],
        )
        errors = CounterMetricFamily(
            "sp4n_retention_errors", "Retention passes that failed.", labels=["table"]
        )
        last = GaugeMetricFamily(
            "sp4n_retention_last_run_timestamp_seconds",
            "When the job last finished a pass with nothing more due (0: not yet).",
            labels=["table"],
        )
        for table, stats in sorted(self._retention.stats.items()):
            deleted.add_metric([table], stats.deleted)
            errors.add_metric([table], stats.errors)
            last.add_metric([table], stats.last_run or 0)
        yield deleted
        yield errors
        yield last

    def _circuit_metrics(self) -> Iterator[Metric]:
        if self._federation is None:
            return
        circuit = GaugeMetricFamily(
            "sp4n_node_circuit_open",
            "1 while the node's circuit breaker keeps calls from it (OPEN, or HALF_OPEN "
            "waiting on its one trial call); 0 when CLOSED.",
            labels=["node"],
        )
        for node, connector in sorted(self._federation.connectors.items()):
            circuit.add_metric([node], 0 if connector.health.circuit is CircuitState.CLOSED else 1)
        yield circuit

    def _cache_metrics(self) -> Iterator[Metric]:
        cache = self._cache
        if cache is None:
            return
        stats = cache.stats
        for name, value, what in (
            ("hits", stats.hits, "Queries answered from the response cache."),
            ("misses", stats.misses, "Cacheable queries the cache did not hold."),
            ("stored", stats.stored, "Answers stored in the response cache."),
            ("invalidations", stats.invalidated, "Entries dropped by a committed change."),
            ("not_stored", stats.not_stored, "Answers not stored: a change landed meanwhile."),
        ):
            yield CounterMetricFamily(f"sp4n_cache_{name}", what, value=value)
        yield GaugeMetricFamily(
            "sp4n_cache_bytes", "Bytes the cached answers hold.", value=cache.bytes
        )
        yield GaugeMetricFamily("sp4n_cache_entries", "Answers in the cache.", value=len(cache))


def render(collector: HubCollector) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return generate_latest(registry)
