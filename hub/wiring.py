"""The wiring: every component of the hub built from ``Settings``, in one place.

The app (``hub.app.create_app``), every command of ``sp4n-hub`` and the tests'
fixtures build the database, the write path, the nodes' connectors, the pulls,
the bus and the sync loops here, so they cannot disagree about how. Nothing is
opened or started: each user opens what it built (the app in its lifespan, a
command around its work).

Which nodes' systems the hub serves: with connectors on (a node table is
configured, or ``SP4N_CONNECTORS=1``) each node is pulled and written back
through its connector. With connectors off there are no node sinks at all: the
relay still publishes every committed change to the bus (subscriptions, and any
hub serving the nodes later, read it from there), and the hub records no state
as held by a node it did not write to.

What is built follows the process's roles (``Settings.roles``): the API replica
(``sp4n-hub serve``) gets the HTTP surface's parts, the subscriptions'
broadcaster and its response cache; a worker the relay, the sinks or the pulls
it runs (of ``Settings.worker_nodes`` only, when given). Which loops start is
``hub.app``'s lifespan.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from connectors.config import NodeTable
from connectors.federation import Federation
from hub.api.cache import ChangeFeed, ResponseCache
from hub.domain.duplicates import Duplicates
from hub.domain.institutions import InstitutionDirectory
from hub.domain.ratings import Ratings
from hub.domain.review import ReviewDesk
from hub.domain.service import ReportService
from hub.errors import ConfigError
from hub.federation import build_federation
from hub.ingest.pull import Ingest
from hub.ministry.projection import RollupProjection
from hub.security.audit import AuditArchiver, AuditLog
from hub.security.keys import KeyRing
from hub.security.sessions import session_jobs
from hub.security.tokens import Tokens, TokenSettings
from hub.settings import RetentionSettings, Role, Settings, SyncMode, masked_url
from hub.store.database import Database
from hub.store.retention import Job, Retention, store_jobs
from hub.sync.bus import Bus, Topics
from hub.sync.kafka import KafkaBus
from hub.sync.memory import MemoryBus
from hub.sync.sink import Sink
from hub.sync.supervisor import SyncSupervisor
from hub.traces import Tracing

_log = logging.getLogger(__name__)

Environment = Mapping[str, str]


def database_url(settings: Settings) -> str:
    """``DATABASE_URL``, or a ConfigError saying how to get one."""
    if settings.database_url is None:
        raise ConfigError(
            "DATABASE_URL is not set; give a postgresql:// URL, or run `sp4n-hub demo` "
            "for an embedded PostgreSQL"
        )
    return settings.database_url.value


def database(settings: Settings, *, max_size: int | None = None) -> Database:
    """The index's pool (not opened); ``max_size`` caps it for a command's short work."""
    url = database_url(settings)
    if max_size is None:
        return Database(url, min_size=settings.pool_min_size, max_size=settings.pool_max_size)
    return Database(url, min_size=1, max_size=max_size)


def topics(settings: Settings) -> Topics:
    return Topics(
        prefix=settings.kafka_topic_prefix,
        partitions=settings.kafka_partitions,
        replication=settings.kafka_replication,
    )


def bus(settings: Settings) -> Bus:
    """The bus the settings ask for: Kafka, or the in-process stand-in."""
    if settings.sync is SyncMode.KAFKA:
        assert settings.kafka_bootstrap_servers is not None  # Settings checks it
        return KafkaBus(settings.kafka_bootstrap_servers, topics(settings))
    return MemoryBus(topics(settings))


def federation(
    db: Database,
    settings: Settings,
    env: Environment | None = None,
    node_table: NodeTable | None = None,
) -> Federation:
    """Every node's connector (not started): ``node_table`` if given, else the table
    file of the settings, its ``${NAME}`` values read from ``env`` (default: the
    process environment, read here and nowhere else)."""
    return build_federation(db, settings, os.environ if env is None else env, node_table)


def nodes_served(settings: Settings) -> str:
    """What the hub does with the nodes' systems, for the start-up banner."""
    if settings.connectors:
        table = settings.node_table or "the packaged connectors/nodes.toml"
        return f"served through their connectors (pulls, write-backs), node table {table}"
    why = (
        "SP4N_CONNECTORS=0"
        if settings.node_table is not None
        else "no node table (SP4N_NODE_TABLE) and SP4N_CONNECTORS is not 1"
    )
    return f"not served ({why}): no node sinks; committed changes are published to the bus only"


def tracing(settings: Settings) -> Tracing:
    """The process's tracing: OTLP to the configured endpoint, else off (started by the
    app's lifespan)."""
    roles = ",".join(r.value for r in Role if r in settings.roles)
    return Tracing.otlp(settings.otlp_endpoint, role=roles)


def tracing_line(settings: Settings) -> str:
    """Whether the process traces, for the start-up banner."""
    if settings.otlp_endpoint is None:
        return "tracing: off (set OTEL_EXPORTER_OTLP_ENDPOINT to export OpenTelemetry traces)"
    return f"tracing: on, OTLP/HTTP to {masked_url(settings.otlp_endpoint)}"


def tokens(settings: Settings, *, lifetime_seconds: int | None = None) -> Tokens:
    """The token issuer and verifier over the settings' signing keys (created when
    missing); ``lifetime_seconds`` overrides the settings' (the demo's 12 h tokens)."""
    return Tokens(
        KeyRing.load(settings.key_dir, create=True),
        TokenSettings(
            issuer=settings.auth.issuer,
            audience=settings.auth.audience,
            lifetime_seconds=lifetime_seconds or settings.auth.token_lifetime_seconds,
        ),
    )


def _stop_process(error: BaseException) -> None:
    """A dead sync loop must not go unnoticed: stop, and let the supervisor restart us."""
    del error
    os.kill(os.getpid(), signal.SIGTERM)


@dataclass(frozen=True)
class Components:
    """The hub's parts, built and not opened."""

    db: Database
    audit: AuditLog
    service: ReportService
    review: ReviewDesk
    """Where admins resolve the pulled changes the hub held back."""
    duplicates: Duplicates
    """Finds and settles one complaint filed twice."""
    ratings: Ratings
    """Reporters' satisfaction with completed reports."""
    institutions: InstitutionDirectory
    """Who reports can be addressed to, kept by admins."""
    federation: Federation | None
    """The nodes' connectors; None with connectors off (or a process of the relay or
    the projections only)."""
    ingest: Ingest | None
    """Pulls from the nodes; None with connectors off or without the pull role."""
    sync: SyncSupervisor | None
    """Relay, node sinks, broadcaster, as the roles ask; None with ``SP4N_SYNC=off``
    or when the process has none of them (a worker of pulls or projections only)."""
    projection: RollupProjection
    """The ministry roll-ups, projected from the committed changes."""
    cache: ResponseCache | None
    """Answers of queries; None with ``SP4N_CACHE_MB=0``."""
    feed: ChangeFeed | None
    """Drops what the committed changes alter from ``cache``."""
    retention: Retention
    """Prunes what is kept only for a while; archives old audit entries."""


def components(
    settings: Settings,
    *,
    env: Environment | None = None,
    node_table: NodeTable | None = None,
    sinks: Sequence[Sink] | None = None,
) -> Components:
    """Everything but the HTTP surface.

    ``sinks`` replaces the node sinks (the connectors', or none): tests pass their
    recording doubles here.
    """
    db = database(settings)
    audit = AuditLog(db)
    service = ReportService(db, audit=audit)
    roles = settings.roles
    nodes: Federation | None = None
    ingest: Ingest | None = None
    # The API reads live fields through the connectors; sinks and pulls work through them.
    if settings.connectors and roles & {Role.API, Role.SINKS, Role.PULL}:
        nodes = federation(db, settings, env, node_table)
        if Role.PULL in roles:
            ingest = Ingest(db, service, nodes, only=settings.worker_nodes)
    sync = None
    if settings.sync is not SyncMode.OFF and roles & {Role.API, Role.RELAY, Role.SINKS}:
        on_failure: Callable[[BaseException], None] | None = (
            _stop_process if settings.exit_on_sync_failure else None
        )
        served: Sequence[Sink] = []
        concurrency: dict[str, int] = {}
        if Role.SINKS in roles and sinks is not None:
            served = sinks
        elif Role.SINKS in roles and nodes is not None:
            served = list(nodes)
            # A sink writes back as many events at once as its node's connector
            # lets through (the node table's resilience.concurrency).
            concurrency = {c.node_code: c.config.resilience.concurrency for c in nodes}
        if settings.worker_nodes is not None:
            served = [s for s in served if s.node_code in settings.worker_nodes]
        sync = SyncSupervisor(
            db,
            bus(settings),
            served,
            relay=Role.RELAY in roles,
            broadcast=Role.API in roles,
            concurrency=concurrency,
            on_failure=on_failure,
        )
    cache = ResponseCache(settings.cache_mb * 2**20) if settings.cache_mb else None
    if Role.API not in roles:
        cache = None  # nothing to answer from it
    feed = ChangeFeed(db, cache) if cache is not None else None
    review, duplicates = ReviewDesk(db, service, audit), Duplicates(db, service)
    return Components(
        db, audit, service, review, duplicates, Ratings(db, audit),
        InstitutionDirectory(db, audit), nodes, ingest, sync, RollupProjection(db), cache, feed,
        retention(db, audit, settings.retention),
    )  # fmt: skip


def retention(db: Database, audit: AuditLog, settings: RetentionSettings) -> Retention:
    """The retention jobs with their windows: the store's four, the audit archive, and
    people's ended sessions and idle login counts."""
    jobs: list[Job] = store_jobs(
        db,
        outbox_days=settings.outbox_days,
        inbox_days=settings.inbox_days,
        idempotency_days=settings.idempotency_days,
        review_days=settings.review_days,
        batch=settings.batch,
    )
    jobs.append(AuditArchiver(audit, settings.audit_days, settings.audit_segment))
    jobs += session_jobs(db, settings.sessions_days, settings.batch)
    return Retention(jobs, settings.interval_seconds)
