"""``/metrics`` in the Prometheus text format, read live from the running parts."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from hub.store.database import Database
from hub.sync.service import SyncService


class HubCollector(Collector):
    """Collects on scrape; nothing is counted twice and no global registry is used."""

    def __init__(self, db: Database, sync: SyncService | None) -> None:
        self._db = db
        self._sync = sync

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily(
            "sp4n_sql_statements",
            "Named SQL statements run by the read path.",
            value=self._db.statements.count,
        )
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
        for node, worker in sorted(self._sync.workers.items()):
            lag.add_metric([node], worker.stats.lag)
            applied.add_metric([node], worker.stats.applied)
            dead.add_metric([node], worker.stats.dead_lettered)
        yield lag
        yield applied
        yield dead
        if self._sync.relay is not None:
            yield CounterMetricFamily(
                "sp4n_outbox_published",
                "Outbox rows published by this process.",
                value=self._sync.relay.published,
            )


def render(collector: HubCollector) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return generate_latest(registry)
