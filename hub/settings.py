"""Settings: one frozen dataclass tree, read from the environment in one place."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from hub.errors import ConfigError
from hub.ministry.settings import MinistrySettings
from hub.sync.bus import EVENTS_HELD_DAYS


class Profile(enum.Enum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class SyncMode(enum.Enum):
    OFF = "off"
    """No relay, no sinks: the outbox only fills (e.g. a read-only replica)."""
    MEMORY = "memory"
    """The in-process bus: the demo without Kafka; nothing survives a restart."""
    KAFKA = "kafka"


class Role(enum.Enum):
    """What a hub process does; ``sp4n-hub serve`` is ``API``, a worker the others."""

    API = "api"
    """GraphQL and the HTTP surface, with what serving needs in each replica: its
    response cache's feed of committed changes and the subscriptions' broadcaster."""
    RELAY = "relay"
    """The outbox relay, its slices shared with the other live relays."""
    SINKS = "sinks"
    """The node sinks (one consumer group per node, shared with other workers)."""
    PULL = "pull"
    """The pulls from the nodes, each node in one process at a time."""
    PROJECTIONS = "projections"
    """The ministry roll-ups' projection, the audit sealer and the auto-close job."""


ALL_ROLES = frozenset(Role)
WORKER_ROLES = ALL_ROLES - {Role.API}


@dataclass(frozen=True, slots=True)
class Secret:
    """A value that never shows in a repr, a log line or a traceback."""

    value: str = field(repr=False)

    def __repr__(self) -> str:
        return "Secret('**********')"


def masked_url(url: str) -> str:
    """``url`` with its password replaced, for logs and banners."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":****@")
    return urlunsplit(parts._replace(netloc=netloc))


@dataclass(frozen=True)
class Limits:
    """What one GraphQL request may ask for; refused before any resolver runs."""

    max_page_size: int = 100
    max_depth: int = 12
    max_aliases: int = 50
    max_tokens: int = 5_000
    cost_budget: int = 10_000
    max_body_bytes: int = 1_000_000
    requests_per_second: float = 50.0
    burst: int = 100


@dataclass(frozen=True)
class AuthSettings:
    issuer: str = "https://hub.sp4n.sumselprov.go.id"
    audience: str = "sp4n-hub"
    token_lifetime_seconds: int = 900
    key_dir: Path | None = None
    """Ed25519 signing keys, one PEM per key id; None: ``<data_dir>/keys``."""
    session_seconds: int = 12 * 3600
    """How long a person's login session lasts (``hub/security/sessions.py``)."""
    throttle_after: int = 5
    """Failed logins of one account from one address before its attempts wait ..."""
    throttle_source_after: int = 20
    """... and from one address across accounts (``hub/security/logins.py``)."""
    throttle_first_seconds: float = 1.0
    """The first such wait; it doubles with each further failure ..."""
    throttle_longest_seconds: float = 900.0
    """... up to this."""


@dataclass(frozen=True)
class RetentionSettings:
    """How long the hub keeps what it only needs for a while (``hub.store.retention``)."""

    outbox_days: int = 7
    """Published outbox rows (never one the roll-ups' projection has not passed)."""
    inbox_days: int = EVENTS_HELD_DAYS
    """The sinks' inbox: at least as long as the events topic holds a record, since
    only a record still in the topic can be delivered again."""
    idempotency_days: int = 7
    """Idempotency keys: a retry with the same key inside this window gets the
    first answer; the API promises it (README)."""
    review_days: int = 90
    """Resolved review items (those a learned status label cites are kept)."""
    audit_days: int = 90
    """Sealed audit entries older than this move into archived segments."""
    sessions_days: int = 1
    """People's sessions ended or expired, and login counts idle, this long ago go."""
    audit_segment: int = 10_000
    """Entries per archived segment (only whole segments are archived)."""
    batch: int = 5_000
    """Rows one statement deletes at most; each batch is its own transaction."""
    interval_seconds: float = 3600.0
    """Pause between passes once every job found nothing more to do."""

    def __post_init__(self) -> None:
        for name, days in (
            ("SP4N_RETENTION_OUTBOX_DAYS", self.outbox_days),
            ("SP4N_RETENTION_INBOX_DAYS", self.inbox_days),
            ("SP4N_IDEMPOTENCY_DAYS", self.idempotency_days),
            ("SP4N_RETENTION_REVIEW_DAYS", self.review_days),
            ("SP4N_AUDIT_ARCHIVE_DAYS", self.audit_days),
            ("SP4N_RETENTION_SESSION_DAYS", self.sessions_days),
        ):
            if not 1 <= days <= 36_500:
                raise ConfigError(f"{name} must be 1..36500 days, got {days}")
        if self.inbox_days < EVENTS_HELD_DAYS:
            raise ConfigError(
                f"SP4N_RETENTION_INBOX_DAYS must be at least {EVENTS_HELD_DAYS}, as long as "
                f"the events topic may hold a record, got {self.inbox_days}"
            )
        if not 1 <= self.audit_segment <= 1_000_000:
            raise ConfigError(
                f"SP4N_AUDIT_SEGMENT must be 1..1000000 entries, got {self.audit_segment}"
            )
        if not 1 <= self.batch <= 100_000:
            raise ConfigError(f"SP4N_RETENTION_BATCH must be 1..100000 rows, got {self.batch}")
        if not 1 <= self.interval_seconds <= 86_400:
            raise ConfigError(
                f"SP4N_RETENTION_INTERVAL must be 1..86400 seconds, got {self.interval_seconds}"
            )

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RetentionSettings:
        return cls(
            outbox_days=_int(env, "SP4N_RETENTION_OUTBOX_DAYS", cls.outbox_days),
            inbox_days=_int(env, "SP4N_RETENTION_INBOX_DAYS", cls.inbox_days),
            idempotency_days=_int(env, "SP4N_IDEMPOTENCY_DAYS", cls.idempotency_days),
            review_days=_int(env, "SP4N_RETENTION_REVIEW_DAYS", cls.review_days),
            audit_days=_int(env, "SP4N_AUDIT_ARCHIVE_DAYS", cls.audit_days),
            sessions_days=_int(env, "SP4N_RETENTION_SESSION_DAYS", cls.sessions_days),
            audit_segment=_int(env, "SP4N_AUDIT_SEGMENT", cls.audit_segment),
            batch=_int(env, "SP4N_RETENTION_BATCH", cls.batch),
            interval_seconds=float(_int(env, "SP4N_RETENTION_INTERVAL", int(cls.interval_seconds))),
        )


@dataclass(frozen=True)
class Settings:
    """Everything the hub needs to start; built once, passed down explicitly."""

    database_url: Secret | None = None
    """None: the CLI starts an embedded PostgreSQL in ``data_dir``."""
    host: str = "127.0.0.1"
    port: int = 8000
    profile: Profile = Profile.DEVELOPMENT
    data_dir: Path = Path(".sp4n")
    limits: Limits = field(default_factory=Limits)
    auth: AuthSettings = field(default_factory=AuthSettings)
    ministry: MinistrySettings = field(default_factory=MinistrySettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    pool_min_size: int = 2
    pool_max_size: int = 10
    sync: SyncMode = SyncMode.OFF
    kafka_bootstrap_servers: str | None = None
    kafka_partitions: int = 6
    kafka_replication: int = 1
    """Replicas of each topic the hub creates: 3 on a production cluster (with the
    brokers' ``min.insync.replicas=2``), 1 on a single development broker."""
    kafka_topic_prefix: str = ""
    exit_on_sync_failure: bool = False
    """Stop the process when a sync loop dies, so an orchestrator restarts it."""
    node_table: Path | None = None
    """The node table (TOML); None: the packaged ``connectors/nodes.toml``."""
    cache_mb: int = 64
    """The response cache's budget in MiB; 0 turns it off."""
    trusted_documents: bool = False
    """Run only the documents registered with ``sp4n-hub documents add``."""
    subgraph: bool = False
    """Serve ``/subgraph``: the hub as an Apollo Federation v2 subgraph of a supergraph."""
    connectors: bool = False
    """Serve the nodes through their connectors (pulls, write-backs, live reads);
    off: no node sinks, committed changes are only published (``hub.wiring``).
    From the environment: on when a node table is configured, unless
    ``SP4N_CONNECTORS=0``."""
    roles: frozenset[Role] = ALL_ROLES
    """What this process does (``sp4n-hub serve``: the API; ``worker``: the rest);
    every role by default, the one process of the demo and of ``serve --all``."""
    worker_nodes: frozenset[str] | None = None
    """The nodes whose sinks and pulls this process runs (``worker --nodes``); None: all."""
    otlp_endpoint: str | None = None
    """Where traces go (an OTLP/HTTP collector's base URL, the standard
    ``OTEL_EXPORTER_OTLP_ENDPOINT``); None: tracing is off (``hub.traces``)."""
    log_json: bool = False
    """Log lines as JSON objects carrying request, event and report ids and the node
    (``SP4N_LOG_FORMAT=json``, ``hub.logs``); else plain text."""
    metrics_port: int | None = None
    """Where a worker serves ``/healthz``, ``/readyz`` and ``/metrics`` (on ``host``);
    None: it serves no HTTP. ``serve`` answers them on its own port."""

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise ConfigError(f"SP4N_PORT must be a TCP port (1-65535), got {self.port}")
        if not 1 <= self.limits.max_page_size <= 1000:
            raise ConfigError(
                f"SP4N_MAX_PAGE_SIZE must be 1..1000, got {self.limits.max_page_size}"
            )
        if not 60 <= self.auth.token_lifetime_seconds <= 86_400:
            raise ConfigError("SP4N_TOKEN_LIFETIME must be 60..86400 seconds")
        if not 1 <= self.pool_min_size <= self.pool_max_size:
            raise ConfigError(
                "SP4N_POOL_MIN_SIZE must be at least 1 and at most SP4N_POOL_MAX_SIZE "
                f"(got {self.pool_min_size} and {self.pool_max_size})"
            )
        if not 0 <= self.cache_mb <= 65_536:
            raise ConfigError(f"SP4N_CACHE_MB must be 0..65536, got {self.cache_mb}")
        if self.sync is SyncMode.KAFKA and not self.kafka_bootstrap_servers:
            raise ConfigError("SP4N_SYNC=kafka needs KAFKA_BOOTSTRAP_SERVERS (host:port,...)")
        if not 1 <= self.kafka_partitions <= 1000:
            raise ConfigError(f"SP4N_KAFKA_PARTITIONS must be 1..1000, got {self.kafka_partitions}")
        if not 1 <= self.kafka_replication <= 16:
            raise ConfigError(f"SP4N_KAFKA_REPLICATION must be 1..16, got {self.kafka_replication}")
        if self.metrics_port is not None and not 0 < self.metrics_port < 65536:
            raise ConfigError(
                f"SP4N_METRICS_PORT must be a TCP port (1-65535), got {self.metrics_port}"
            )
        if not self.roles:
            raise ConfigError("a hub process needs at least one role")
        if self.sync is SyncMode.MEMORY and self.roles != ALL_ROLES:
            raise ConfigError(
                "the in-process bus (SP4N_SYNC=memory, no KAFKA_BOOTSTRAP_SERVERS) carries "
                "events inside one process only: set KAFKA_BOOTSTRAP_SERVERS to split the "
                "hub into `serve` and `worker` processes, or run `sp4n-hub serve --all`"
            )
        if self.otlp_endpoint is not None and urlsplit(self.otlp_endpoint).scheme not in (
            "http",
            "https",
        ):
            raise ConfigError(
                "OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL (OTLP over "
                f"HTTP), got {self.otlp_endpoint!r}"
            )
        if self.database_url is not None and urlsplit(self.database_url.value).scheme not in (
            "postgres",
            "postgresql",
        ):
            raise ConfigError("DATABASE_URL must be a postgresql:// URL")

    @property
    def graphiql(self) -> bool:
        return self.profile is Profile.DEVELOPMENT

    @property
    def production(self) -> bool:
        return self.profile is Profile.PRODUCTION

    @property
    def key_dir(self) -> Path:
        return self.auth.key_dir or self.data_dir / "keys"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Reads ``SP4N_*`` and ``DATABASE_URL``; a bad value names its variable."""
        url = env.get("DATABASE_URL")
        profile_name = env.get("SP4N_PROFILE", Profile.DEVELOPMENT.value)
        try:
            profile = Profile(profile_name)
        except ValueError:
            choices = ", ".join(p.value for p in Profile)
            raise ConfigError(
                f"SP4N_PROFILE must be one of {choices}, got {profile_name!r}"
            ) from None
        kafka = env.get("KAFKA_BOOTSTRAP_SERVERS") or None
        default_sync = SyncMode.KAFKA if kafka else SyncMode.MEMORY
        sync_name = env.get("SP4N_SYNC", default_sync.value)
        try:
            sync = SyncMode(sync_name)
        except ValueError:
            choices = ", ".join(m.value for m in SyncMode)
            raise ConfigError(f"SP4N_SYNC must be one of {choices}, got {sync_name!r}") from None
        node_table = Path(env["SP4N_NODE_TABLE"]) if env.get("SP4N_NODE_TABLE") else None
        log_format = env.get("SP4N_LOG_FORMAT", "text")
        if log_format not in ("text", "json"):
            raise ConfigError(f"SP4N_LOG_FORMAT must be text or json, got {log_format!r}")
        return cls(
            database_url=Secret(url) if url else None,
            sync=sync,
            kafka_bootstrap_servers=kafka,
            kafka_partitions=_int(env, "SP4N_KAFKA_PARTITIONS", cls.kafka_partitions),
            kafka_replication=_int(env, "SP4N_KAFKA_REPLICATION", cls.kafka_replication),
            kafka_topic_prefix=env.get("SP4N_KAFKA_TOPIC_PREFIX", ""),
            exit_on_sync_failure=True,
            host=env.get("SP4N_HOST", cls.host),
            port=_int(env, "SP4N_PORT", cls.port),
            metrics_port=_int(env, "SP4N_METRICS_PORT", 0) or None,
            profile=profile,
            data_dir=Path(env.get("SP4N_DATA_DIR", str(cls.data_dir))),
            limits=Limits(
                max_page_size=_int(env, "SP4N_MAX_PAGE_SIZE", Limits.max_page_size),
                requests_per_second=float(_int(env, "SP4N_RATE_LIMIT", 50)),
                burst=2 * _int(env, "SP4N_RATE_LIMIT", 50),
            ),
            auth=AuthSettings(
                token_lifetime_seconds=_int(env, "SP4N_TOKEN_LIFETIME", 900),
                key_dir=Path(env["SP4N_KEY_DIR"]) if env.get("SP4N_KEY_DIR") else None,
            ),
            pool_min_size=_int(env, "SP4N_POOL_MIN_SIZE", cls.pool_min_size),
            pool_max_size=_int(env, "SP4N_POOL_MAX_SIZE", cls.pool_max_size),
            node_table=node_table,
            # A configured node table is meant to be served; an explicit 0 still says no.
            connectors=_flag(env, "SP4N_CONNECTORS", default=node_table is not None),
            cache_mb=_int(env, "SP4N_CACHE_MB", cls.cache_mb),
            trusted_documents=_flag(env, "SP4N_TRUSTED_DOCUMENTS"),
            subgraph=_flag(env, "SP4N_SUBGRAPH"),
            ministry=MinistrySettings.from_env(env),
            retention=RetentionSettings.from_env(env),
            otlp_endpoint=env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None,
            log_json=log_format == "json",
        )


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None


def _flag(env: Mapping[str, str], name: str, *, default: bool = False) -> bool:
    raw = env.get(name, "1" if default else "0").strip().lower()
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("", "0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be 1 or 0, got {raw!r}")
