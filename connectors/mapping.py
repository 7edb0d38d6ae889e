"""A node's status vocabulary and category list, mapped to the canonical ones.

Both are data from the node table, validated when the table is loaded: a bad
table fails at start naming the vocabulary and the key, never at the first pull.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from connectors.errors import NodeTableError
from schema.lifecycle import ReportState
from schema.topics import TOPICS

_TOPIC_IDS = frozenset(t.id for t in TOPICS)
_NONE: frozenset[ReportState] = frozenset()


@dataclass(frozen=True, slots=True)
class StatusMapping:
    """Two-way status table of one node vocabulary.

    ``inbound`` maps every label the node may show to a canonical state
    (several labels may share one). ``outbound`` gives, for every canonical
    state, the label written back. A vocabulary coarser than ours is allowed
    (e.g. a CRM writes ARCHIVED as "Selesai"); such a label then *agrees with*
    several states, which is how the hub tells an echo from news.
    """

    name: str
    inbound: Mapping[str, ReportState]
    outbound: Mapping[ReportState, str]
    _agreeing: Mapping[str, frozenset[ReportState]] = field(init=False, repr=False, compare=False)
    """``agreeing`` worked out once per label: it is asked for every pulled record."""

    def __post_init__(self) -> None:
        table: dict[str, set[ReportState]] = {label: {s} for label, s in self.inbound.items()}
        for state, label in self.outbound.items():
            table.setdefault(label, set()).add(state)
        agreeing = {label: frozenset(states) for label, states in table.items()}
        object.__setattr__(self, "_agreeing", agreeing)

    def to_canonical(self, raw: str) -> ReportState | None:
        """The canonical state of ``raw``, or None when this vocabulary does not know it."""
        return self.inbound.get(raw.strip())

    def to_external(self, state: ReportState) -> str:
        """The node's label for ``state``; every state has one (checked at load)."""
        return self.outbound[state]

    def agreeing(self, raw: str) -> frozenset[ReportState]:
        """Canonical states the node's label ``raw`` is consistent with."""
        return self._agreeing.get(raw.strip(), _NONE)

    @classmethod
    def from_table(cls, name: str, table: object) -> StatusMapping:
        """Builds and checks a ``[vocabularies.<name>]`` table."""
        where = f"vocabularies.{name}"
        if not isinstance(table, Mapping):
            raise NodeTableError(None, f"{where} must be a table with inbound and outbound")
        unknown = set(table) - {"inbound", "outbound"}
        if unknown:
            raise NodeTableError(None, f"{where} has unknown keys {sorted(unknown)}")
        inbound_raw, outbound_raw = table.get("inbound"), table.get("outbound")
        if not isinstance(inbound_raw, Mapping) or not inbound_raw:
            raise NodeTableError(None, f"{where}.inbound must be a non-empty table")
        if not isinstance(outbound_raw, Mapping):
            raise NodeTableError(None, f"{where}.outbound must be a table")
        inbound = {
            str(label).strip(): _state(f"{where}.inbound.{label}", value)
            for label, value in inbound_raw.items()
        }
        outbound: dict[ReportState, str] = {}
        for key, label in outbound_raw.items():
            state = _state(f"{where}.outbound (key {key!r})", key)
            if not isinstance(label, str) or not label.strip():
                raise NodeTableError(None, f"{where}.outbound.{key} must be a non-empty label")
            if label.strip() not in inbound:
                # Writing a label we cannot read back would make every write-back
                # come home as an unknown state.
                raise NodeTableError(
                    None, f"{where}.outbound.{key} = {label!r} is not one of the inbound labels"
                )
            outbound[state] = label.strip()
        missing = [s.value for s in ReportState if s not in outbound]
        if missing:
            raise NodeTableError(None, f"{where}.outbound has no label for {', '.join(missing)}")
        return cls(name, inbound, outbound)


def _state(where: str, value: object) -> ReportState:
    try:
        return ReportState(value)
    except ValueError:
        choices = ", ".join(s.value for s in ReportState)
        raise NodeTableError(
            None, f"{where}: {value!r} is not a canonical state ({choices})"
        ) from None


@dataclass(frozen=True, slots=True)
class TopicMapping:
    """A node's own categories mapped to hub topic ids.

    Without a table, a node's category must already be a hub topic id (the
    topic tree was seeded from the LAPOR! categories); anything else maps to
    None and is kept as ``raw_topic``.
    """

    name: str
    codes: Mapping[str, int]

    def to_topic(self, raw: str | None) -> int | None:
        if raw is None:
            return None
        if self.codes:
            return self.codes.get(raw)
        return int(raw) if raw.isdigit() and int(raw) in _TOPIC_IDS else None

    def to_code(self, topic_id: int, parent_id: int | None) -> str | None:
        """The node's category for a hub topic (or its parent), for creating a report."""
        for wanted in (topic_id, parent_id):
            for code, mapped in self.codes.items():
                if mapped == wanted:
                    return code
        return None if self.codes else str(topic_id)

    @classmethod
    def from_table(cls, name: str, table: object) -> TopicMapping:
        where = f"topic_maps.{name}"
        if not isinstance(table, Mapping) or not table:
            raise NodeTableError(None, f"{where} must be a non-empty table of code = topic id")
        codes: dict[str, int] = {}
        for code, topic in table.items():
            if isinstance(topic, bool) or not isinstance(topic, int) or topic not in _TOPIC_IDS:
                raise NodeTableError(None, f"{where}.{code}: {topic!r} is not a hub topic id")
            codes[str(code)] = topic
        return cls(name, codes)


IDENTITY_TOPICS = TopicMapping("hub", {})
