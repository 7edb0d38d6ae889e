"""``/metrics`` in the Prometheus text format, read live from the running parts."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from hub.outages import is_outage
from hub.store.database import Database
from hub.sync.service import SyncService


@dataclass(frozen=True, slots=True)
class Outbox:
    """The outbox as one scrape found it: None when the database did not answer."""

    backlog: int | None
    oldest_seconds: float | None


_SCRAPE_TIMEOUT = 1.0


async def read_outbox(db: Database) -> Outbox:
    """Reads the backlog for a scrape; a database that does not answer in a second is down."""
    try:
        async with asyncio.timeout(_SCRAPE_TIMEOUT):
            row = await db.fetchrow("outbox_backlog")
    except Exception as error:
        if not (is_outage(error) or isinstance(error, TimeoutError)):
            raise
        return Outbox(None, None)
    assert row is not None
    return Outbox(row["rows"], row["oldest_seconds"])


class HubCollector(Collector):
    """Collects on scrape; nothing is counted twice and no global registry is used."""

    def __init__(self, db: Database, sync: SyncService | None) -> None:
        self._db = db
        self._sync = sync
        self.outbox = Outbox(None, None)
        """Set by the endpoint before each scrape (it needs a query, collect() is sync)."""

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily(
            "sp4n_sql_statements",
            "Named SQL statements run by the read path.",
            value=self._db.statements.count,
        )
        yield GaugeMetricFamily(
            "sp4n_database_up",
            "1 if PostgreSQL answered this scrape's outbox query within a second.",
            value=0 if self.outbox.backlog is None else 1,
        )
        if self.outbox.backlog is not None:
            yield GaugeMetricFamily(
                "sp4n_outbox_backlog",
                "Committed changes not yet published to Kafka.",
                value=self.outbox.backlog,
            )
            yield GaugeMetricFamily(
                "sp4n_outbox_oldest_unpublished_seconds",
                "How long the oldest unpublished outbox row has waited (0 when none).",
                value=self.outbox.oldest_seconds or 0.0,
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
