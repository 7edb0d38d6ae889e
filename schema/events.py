"""The event contract: what a status change says on the wire.

Events carry no report content and no reporter identity, so Kafka never holds
personal data. A node that needs content fetches it through the hub. Each event
names the nodes involved in its report (``involvedNodes``, as the hub decided
them with the change): exactly those nodes hear of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from schema.lifecycle import VERBS, ReportState, Verb
from schema.report import ActorRole, ReportKind

EVENT_TYPE_PREFIX = "id.go.sp4n.report."


@dataclass(frozen=True, slots=True)
class ExternalRef:
    node_code: str
    external_id: str


@dataclass(frozen=True, slots=True)
class ReportEvent:
    """One life-cycle event of one report."""

    event_id: str
    report_id: str
    version: int
    verb: Verb
    previous_state: ReportState | None
    state: ReportState
    kind: ReportKind
    region_code: str
    origin_node: str
    institution_codes: tuple[str, ...]
    """Every institution in the disposition chain, oldest first."""
    involved_nodes: tuple[str, ...]
    """The nodes involved in the report, sorted: the ones that hear of this event."""
    external_refs: tuple[ExternalRef, ...]
    occurred_at: datetime
    actor_node: str
    actor_role: ActorRole

    @property
    def type(self) -> str:
        """The CloudEvents type, e.g. ``id.go.sp4n.report.verified.v1``."""
        return f"{EVENT_TYPE_PREFIX}{VERBS[self.verb].event}.v1"

    def data(self) -> dict[str, Any]:
        """The JSON body of the event."""
        return {
            "reportId": self.report_id,
            "version": self.version,
            "verb": self.verb.value,
            "previousState": self.previous_state.value if self.previous_state else None,
            "state": self.state.value,
            "kind": self.kind.value,
            "regionCode": self.region_code,
            "originNode": self.origin_node,
            "institutionCodes": list(self.institution_codes),
            "involvedNodes": list(self.involved_nodes),
            "externalRefs": [
                {"node": r.node_code, "externalId": r.external_id} for r in self.external_refs
            ],
            "occurredAt": self.occurred_at.isoformat(),
            "actorNode": self.actor_node,
            "actorRole": self.actor_role.value,
        }


EVENT_DATA_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "SP4N report event data, v1",
    "type": "object",
    "additionalProperties": False,
    "required": [
        "reportId",
        "version",
        "verb",
        "previousState",
        "state",
        "kind",
        "regionCode",
        "originNode",
        "institutionCodes",
        "involvedNodes",
        "externalRefs",
        "occurredAt",
        "actorNode",
        "actorRole",
    ],
    "properties": {
        "reportId": {"type": "string", "format": "uuid"},
        "version": {"type": "integer", "minimum": 1},
        "verb": {"enum": [v.value for v in Verb]},
        "previousState": {"enum": [None, *(s.value for s in ReportState)]},
        "state": {"enum": [s.value for s in ReportState]},
        "kind": {"enum": [k.value for k in ReportKind]},
        "regionCode": {"type": "string", "pattern": r"^16(\.\d\d)?$"},
        "originNode": {"type": "string", "minLength": 1},
        "institutionCodes": {"type": "array", "items": {"type": "string"}},
        "involvedNodes": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "minItems": 1,
            "uniqueItems": True,
        },
        "externalRefs": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["node", "externalId"],
                "properties": {"node": {"type": "string"}, "externalId": {"type": "string"}},
            },
        },
        "occurredAt": {"type": "string", "format": "date-time"},
        "actorNode": {"type": "string", "minLength": 1},
        "actorRole": {"enum": [r.value for r in ActorRole]},
    },
}


class EventDataError(ValueError):
    """Event data that does not follow the contract; the message names the field."""


def _field(data: dict[str, Any], name: str, kind: type) -> Any:
    value = data.get(name)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise EventDataError(f"event field {name!r} must be {kind.__name__}, got {value!r}")
    return value


def _nodes(values: list[Any]) -> tuple[str, ...]:
    if not values or not all(isinstance(v, str) and v for v in values):
        raise EventDataError(f"event field 'involvedNodes' must name nodes, got {values!r}")
    return tuple(sorted(set(values)))


def parse_event(event_id: str, data: object) -> ReportEvent:
    """Rebuilds a ReportEvent from its JSON body, refusing anything off-contract."""
    if not isinstance(data, dict):
        raise EventDataError("event data must be a JSON object")
    unknown = set(data) - set(EVENT_DATA_SCHEMA["properties"])
    if unknown:
        raise EventDataError(f"event data has unknown fields: {sorted(unknown)}")
    try:
        previous = data.get("previousState")
        refs = _field(data, "externalRefs", list)
        return ReportEvent(
            event_id=event_id,
            report_id=_field(data, "reportId", str),
            version=_field(data, "version", int),
            verb=Verb(_field(data, "verb", str)),
            previous_state=ReportState(previous) if previous is not None else None,
            state=ReportState(_field(data, "state", str)),
            kind=ReportKind(_field(data, "kind", str)),
            region_code=_field(data, "regionCode", str),
            origin_node=_field(data, "originNode", str),
            institution_codes=tuple(str(c) for c in _field(data, "institutionCodes", list)),
            involved_nodes=_nodes(_field(data, "involvedNodes", list)),
            external_refs=tuple(ExternalRef(str(r["node"]), str(r["externalId"])) for r in refs),
            occurred_at=datetime.fromisoformat(_field(data, "occurredAt", str)),
            actor_node=_field(data, "actorNode", str),
            actor_role=ActorRole(_field(data, "actorRole", str)),
        )
    except (ValueError, KeyError, TypeError) as error:
        if isinstance(error, EventDataError):
            raise
        raise EventDataError(f"event data is malformed: {error}") from None
