"""The node table (``nodes.toml``): each of the 19 nodes, its connector and its knobs.

Plain data, loaded once at start and validated there: a bad table fails naming
the node and the key. Credentials are referenced by environment variable name;
the table never holds a secret. ``${NAME}`` in a URL is filled from the same
environment mapping, which is passed in explicitly (tests and the sandbox give
their own; nothing here reads ``os.environ``).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from connectors.errors import NodeTableError
from connectors.mapping import IDENTITY_TOPICS, StatusMapping, TopicMapping
from connectors.resilience import ResiliencePolicy
from schema.nodes import NODES

DEFAULT_TABLE = Path(__file__).resolve().parent / "nodes.toml"
_NODES = {n.code: n for n in NODES}
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_TOP = {"defaults", "vocabularies", "topic_maps", "profiles", "nodes"}
_NODE_KEYS = {
    "profile", "kind", "url", "credentials", "status", "topics",
    "poll_interval_seconds", "resilience", "options",
}  # fmt: skip
_RESILIENCE_KEYS: dict[str, tuple[str, type, float, float]] = {
    # toml key: (policy field, type, low, high)
    "timeout_seconds": ("timeout", float, 0.001, 600),
    "attempts": ("attempts", int, 1, 10),
    "backoff_base_seconds": ("backoff_base", float, 0, 60),
    "backoff_max_seconds": ("backoff_max", float, 0, 600),
    "failure_threshold": ("failure_threshold", int, 1, 1000),
    "reset_after_seconds": ("reset_after", float, 0.001, 3600),
    "concurrency": ("concurrency", int, 1, 256),
}


@dataclass(frozen=True, slots=True)
class Credential:
    """A node's secret, resolved from the environment variable the table names."""

    env_var: str
    value: str = field(repr=False)

    def __repr__(self) -> str:
        return f"Credential({self.env_var}=**********)"


@dataclass(frozen=True, slots=True)
class NodeConfig:
    """One node's connector configuration, validated."""

    code: str
    name: str
    region_code: str | None
    kind: str
    url: str | None
    credentials: Credential | None
    status: StatusMapping
    topics: TopicMapping
    poll_interval: float
    resilience: ResiliencePolicy
    options: Mapping[str, object]

    @property
    def endpoint(self) -> str | None:
        """Where the connector calls, for operators: the URL's scheme, host, port and path,
        never its user, password, query or fragment (a database DSN carries a password, a
        query string may carry a token)."""
        if self.url is None:
            return None
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"  # an IPv6 address
        try:
            port = parts.port
        except ValueError:
            port = None
        where = f"{host}:{port}" if port is not None else host
        return urlunsplit((parts.scheme, where, parts.path, "", ""))


@dataclass(frozen=True, slots=True)
class NodeTable:
    """The validated node table, keyed by node code."""

    nodes: Mapping[str, NodeConfig]

    def __getitem__(self, code: str) -> NodeConfig:
        return self.nodes[code]

    def __iter__(self) -> Iterator[NodeConfig]:
        return iter(self.nodes.values())

    def __len__(self) -> int:
        return len(self.nodes)

    def with_node(self, code: str, **changes: object) -> NodeTable:
        """A copy with one node's fields replaced (tests, per-deployment overrides)."""
        updated = replace(self.nodes[code], **changes)  # type: ignore[arg-type]
        return NodeTable({**self.nodes, code: updated})

    def only(self, codes: set[str]) -> NodeTable:
        return NodeTable({c: n for c, n in self.nodes.items() if c in codes})


def load_node_table(
    env: Mapping[str, str], path: Path | None = None, *, require_all: bool = True
) -> NodeTable:
    """Reads and validates a node table file (default: the packaged ``nodes.toml``)."""
    source = path or DEFAULT_TABLE
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as error:
        raise NodeTableError(None, f"cannot read node table {source}: {error}") from None
    return parse_node_table(text, env, source=str(source), require_all=require_all)


def parse_node_table(
    text: str, env: Mapping[str, str], *, source: str = "<text>", require_all: bool = True
) -> NodeTable:
    """Validates a node table; ``require_all`` insists on every one of the 19 nodes."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise NodeTableError(None, f"{source} is not valid TOML: {error}") from None
    unknown = set(data) - _TOP
    if unknown:
        raise NodeTableError(None, f"{source}: unknown top-level keys {sorted(unknown)}")
    vocabularies = {
        name: StatusMapping.from_table(name, table)
        for name, table in _table(data, "vocabularies").items()
    }
    topic_maps = {
        name: TopicMapping.from_table(name, table)
        for name, table in _table(data, "topic_maps").items()
    }
    defaults = _table(data, "defaults")
    if set(defaults) - {"poll_interval_seconds", "resilience"}:
        extra = sorted(set(defaults) - {"poll_interval_seconds", "resilience"})
        raise NodeTableError(None, f"defaults has unknown keys {extra}")
    profiles = _table(data, "profiles")
    nodes: dict[str, NodeConfig] = {}
    for code, raw in _table(data, "nodes").items():
        if code not in _NODES:
            raise NodeTableError(code, f"nodes.{code}: not one of the federation's nodes")
        if not isinstance(raw, Mapping):
            raise NodeTableError(code, f"nodes.{code} must be a table")
        merged = _merge(code, defaults, profiles, raw)
        nodes[code] = _node(code, merged, env, vocabularies, topic_maps)
    missing = [n.code for n in NODES if n.code not in nodes]
    if require_all and missing:
        raise NodeTableError(None, f"{source}: no entry for node(s) {', '.join(missing)}")
    return NodeTable(nodes)


def _table(data: Mapping[str, object], key: str) -> Mapping[str, object]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise NodeTableError(None, f"{key} must be a table")
    return value


def _merge(
    code: str,
    defaults: Mapping[str, object],
    profiles: Mapping[str, object],
    raw: Mapping[str, object],
) -> dict[str, object]:
    unknown = set(raw) - _NODE_KEYS
    if unknown:
        raise NodeTableError(code, f"nodes.{code} has unknown keys {sorted(unknown)}")
    layers: list[Mapping[str, object]] = [defaults]
    profile_name = raw.get("profile")
    if profile_name is not None:
        profile = profiles.get(str(profile_name))
        if not isinstance(profile, Mapping):
            raise NodeTableError(code, f"profile: no profile named {profile_name!r}")
        bad = set(profile) - (_NODE_KEYS - {"profile", "url", "credentials"})
        if bad:
            raise NodeTableError(code, f"profiles.{profile_name} has unknown keys {sorted(bad)}")
        layers.append(profile)
    layers.append(raw)
    merged: dict[str, object] = {}
    for layer in layers:
        for key, value in layer.items():
            before = merged.get(key)
            # Tables merge key by key, so a node can override one option of its profile.
            if isinstance(before, Mapping) and isinstance(value, Mapping):
                merged[key] = {**before, **value}
            else:
                merged[key] = value
    return merged


def _node(
    code: str,
    merged: Mapping[str, object],
    env: Mapping[str, str],
    vocabularies: Mapping[str, StatusMapping],
    topic_maps: Mapping[str, TopicMapping],
) -> NodeConfig:
    kind = merged.get("kind")
    if not isinstance(kind, str) or not kind:
        raise NodeTableError(code, "kind is missing (e.g. open311, rest, graphql, lapor)")
    status_name = merged.get("status")
    if status_name not in vocabularies:
        raise NodeTableError(code, f"status: no vocabulary named {status_name!r}")
    topics_name = merged.get("topics")
    if topics_name is not None and topics_name not in topic_maps:
        raise NodeTableError(code, f"topics: no topic map named {topics_name!r}")
    poll = merged.get("poll_interval_seconds", 30)
    if isinstance(poll, bool) or not isinstance(poll, int | float) or not 0 < poll <= 86400:
        raise NodeTableError(code, f"poll_interval_seconds must be 0 < s <= 86400, got {poll!r}")
    options = merged.get("options", {})
    if not isinstance(options, Mapping):
        raise NodeTableError(code, "options must be a table")
    node = _NODES[code]
    return NodeConfig(
        code=code,
        name=node.name,
        region_code=node.region_code,
        kind=kind,
        url=_url(code, merged.get("url"), env),
        credentials=_credential(code, merged.get("credentials"), env),
        status=vocabularies[str(status_name)],
        topics=topic_maps[str(topics_name)] if topics_name is not None else IDENTITY_TOPICS,
        poll_interval=float(poll),
        resilience=_resilience(code, merged.get("resilience", {})),
        options=dict(options),
    )


def _url(code: str, value: object, env: Mapping[str, str]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise NodeTableError(code, f"url must be a non-empty string, got {value!r}")

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env:
            raise NodeTableError(code, f"url: ${{{name}}} is not set in the environment")
        return env[name]

    return _VARIABLE.sub(fill, value).rstrip("/")


def _credential(code: str, value: object, env: Mapping[str, str]) -> Credential | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _ENV_NAME.match(value):
        raise NodeTableError(
            code, f"credentials must name an environment variable (A-Z, 0-9, _), got {value!r}"
        )
    secret = env.get(value)
    if not secret:
        raise NodeTableError(code, f"credentials: environment variable {value} is not set")
    return Credential(value, secret)


def _resilience(code: str, value: object) -> ResiliencePolicy:
    if not isinstance(value, Mapping):
        raise NodeTableError(code, "resilience must be a table")
    fields: dict[str, float | int] = {}
    for key, raw in value.items():
        if key not in _RESILIENCE_KEYS:
            raise NodeTableError(
                code, f"resilience.{key} is unknown (known: {', '.join(_RESILIENCE_KEYS)})"
            )
        name, kind, low, high = _RESILIENCE_KEYS[key]
        number = raw if isinstance(raw, int | float) and not isinstance(raw, bool) else None
        if kind is int and not isinstance(number, int):
            number = None
        if number is None or not low <= number <= high:
            raise NodeTableError(
                code,
                f"resilience.{key} must be a {kind.__name__} from {low:g} to {high:g}, got {raw!r}",
            )
        fields[name] = number
    return ResiliencePolicy(**fields)  # type: ignore[arg-type]  # keys checked above
