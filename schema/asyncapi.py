"""The event stream as an AsyncAPI 3.0 document, built from the contract's own code.

Every event type comes from the life cycle's verbs (``schema.lifecycle.VERBS``), every
payload schema from ``schema.events.EVENT_DATA_SCHEMA``, and the headers and the key from
what ``schema.envelope.encode`` puts on a record: the document's examples are records it
encoded, and a header ``encode`` sends that the document does not describe stops the
build. The topics' names and shape are the hub's configuration (``hub.sync.bus.Topics``)
and are handed in as a ``KafkaLayout``. Pure functions; ``render`` gives the YAML that
``sp4n-hub export-schema`` commits as ``schema/asyncapi.yaml`` and the hub serves at
``/asyncapi.yaml``.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import yaml

from schema.envelope import encode
from schema.events import EVENT_DATA_SCHEMA, EVENT_TYPE_PREFIX, ExternalRef, ReportEvent
from schema.lifecycle import TRANSITIONS, VERBS, ReportState, Verb
from schema.report import ActorRole, ReportKind

ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING = "0.5.0"
"""The version of AsyncAPI's Kafka bindings the document uses."""


@dataclass(frozen=True, slots=True)
class KafkaLayout:
    """The topics and consumer groups of one hub, as its settings name and shape them."""

    prefix: str
    """``SP4N_KAFKA_TOPIC_PREFIX``, already part of every name below."""
    events: str
    state: str
    dead_letters: str
    partitions: int
    replicas: int
    state_config: Mapping[str, str]
    """The topic configuration the hub gives the state topic when it creates it."""
    sink_group_prefix: str
    """How the node sinks' consumer groups begin: one group per set of nodes served
    (``…all`` for every node)."""


def event_type(verb: Verb) -> str:
    """The CloudEvents type of ``verb``'s events, e.g. ``id.go.sp4n.report.verified.v1``."""
    return f"{EVENT_TYPE_PREFIX}{VERBS[verb].event}.v1"


def message_name(verb: Verb) -> str:
    """The document's key for ``verb``'s message, e.g. ``reportFollowedUp``."""
    return "report" + "".join(part.capitalize() for part in VERBS[verb].event.split("-"))


_UUID = {"type": "string", "format": "uuid"}

_HEADERS: dict[str, dict[str, Any]] = {
    "ce_specversion": {
        "description": "CloudEvents `specversion`.",
        "const": "1.0",
    },
    "ce_id": {
        **_UUID,
        "description": "CloudEvents `id`: the event's id, unique per event. A record may "
        "come more than once (at-least-once delivery); consumers drop the ids they have "
        "seen.",
    },
    "ce_source": {
        "type": "string",
        "pattern": "^/sp4n/nodes/[^/]+$",
        "description": "CloudEvents `source`: `/sp4n/nodes/<node code>`, the node whose "
        "actor made the change (the payload's `actorNode`).",
    },
    "ce_type": {
        "type": "string",
        "description": "CloudEvents `type`: `id.go.sp4n.report.<event>.v1`, one per verb.",
    },
    "ce_subject": {
        **_UUID,
        "description": "CloudEvents `subject`: the report's id (the record key, the "
        "payload's `reportId`).",
    },
    "ce_time": {
        "type": "string",
        "format": "date-time",
        "description": "CloudEvents `time`: when the change happened (the payload's "
        "`occurredAt`), ISO 8601 with its offset.",
    },
    "content-type": {
        "description": "CloudEvents `datacontenttype` in Kafka binary mode: the value is JSON.",
        "const": "application/json",
    },
}

_TRACE_HEADERS: dict[str, dict[str, Any]] = {
    "ce_traceparent": {
        "type": "string",
        "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
        "description": "CloudEvents distributed tracing extension `traceparent` (W3C Trace "
        "Context): the trace of the write that made the change, on a record written while "
        "the hub traces (OpenTelemetry). Optional.",
    },
    "ce_tracestate": {
        "type": "string",
        "description": "CloudEvents distributed tracing extension `tracestate` (W3C Trace "
        "Context), beside `ce_traceparent` when the trace has one. Optional.",
    },
}

_DEAD_LETTER_HEADERS: dict[str, dict[str, Any]] = {
    "sp4n_dlq_node": {
        "type": "string",
        "minLength": 1,
        "description": "The node whose sink dead-lettered the record.",
    },
    "sp4n_dlq_error": {
        "type": "string",
        "description": "Why: the node's refusal, or `malformed: ...` for a record that "
        "could not be decoded (at most 1000 bytes).",
    },
}

_KEY = {
    **_UUID,
    "description": "The report's id, UTF-8. Every event of one report has this key and so "
    "lands on one partition, in the order of the report's versions.",
}

_GUARANTEES = """\
Guarantees:

- **Order per report.** Each record's key is its report's id, so every event of one \
report is on one partition, in the order of the report's versions (the outbox relay \
sends one report's events from one relay, in outbox order). There is no order across \
reports.
- **At least once.** A change's event is written in the same statement as the change \
(the transactional outbox) and marked published only after the broker acknowledged it \
(idempotent producer, `acks=all`). A crash in between sends it again: consumers drop \
duplicates by the event id, the `ce_id` header (the hub's own node sinks keep an inbox \
of the ids they applied), and may ignore an event whose `version` is not above the \
report's version they already hold.
- **No personal data.** Records carry ids, states, codes and times only: no report \
content (title, text, location, attachments) and no reporter identity. A node that needs \
the content fetches it through the hub's GraphQL API, which checks who may see it.
- **Who hears of an event.** The payload's `involvedNodes` names the nodes involved in \
the report, as the hub decided them with the change; the hub's node sinks apply exactly \
the events that name their node.
"""


def _literal(text: str) -> str:
    """``text`` as a regular expression (ECMA-262, as JSON Schema reads it) matching it."""
    return re.sub(r"([.^$*+?()\[\]{}|\\/])", r"\\\1", text)


def _payload(verb: Verb) -> dict[str, Any]:
    """The data schema, narrowed to what ``verb``'s events carry."""
    rule = VERBS[verb]
    schema = copy.deepcopy(EVENT_DATA_SCHEMA)
    # The document's schemas are AsyncAPI schema objects (a superset of JSON Schema
    # draft 07); the data schema uses nothing later drafts added.
    del schema["$schema"]
    schema["title"] = f"{event_type(verb)} data"
    properties = schema["properties"]
    properties["verb"] = {"const": verb.value}
    properties["state"] = {"const": rule.target.value}
    sources: list[str | None] = [s.value for s in ReportState if s in rule.sources]
    properties["previousState"] = {"enum": sources or [None]}
    descriptions = {
        "reportId": "The report's id (the record key).",
        "version": "The report's version after this change: 1 for a submission, one "
        "more with each change.",
        "previousState": "The state before the change (null for a submission).",
        "state": "The state after the change.",
        "regionCode": "The report's region (Kemendagri code).",
        "originNode": "The node the report was filed at.",
        "institutionCodes": "Every institution in the disposition chain, oldest first.",
        "involvedNodes": "The nodes involved in the report, sorted: the ones that hear "
        "of this event.",
        "externalRefs": "The report's ids in the nodes' own systems.",
        "occurredAt": "When the change happened (the `ce_time` header).",
        "actorNode": "The node whose actor made the change (the `ce_source` header).",
        "actorRole": "The role the actor acted in.",
    }
    for name, text in descriptions.items():
        properties[name] = {**properties[name], "description": text}
    return schema


def _headers(ce_type: str) -> dict[str, Any]:
    properties = copy.deepcopy(_HEADERS)
    properties["ce_type"] = {**properties["ce_type"], "const": ce_type}
    return {
        "type": "object",
        "description": "Kafka record headers, each value UTF-8 text: the event's "
        "CloudEvents attributes in binary mode.",
        "required": list(properties),
        "additionalProperties": False,
        "properties": {**properties, **copy.deepcopy(_TRACE_HEADERS)},
    }


def _moves_from_submission() -> dict[ReportState, int]:
    """How few moves take a new report to each state."""
    found = {ReportState.SUBMITTED: 0}
    frontier = [ReportState.SUBMITTED]
    while frontier:
        state = frontier.pop(0)
        for target in sorted(TRANSITIONS[state], key=list(ReportState).index):
            if target not in found:
                found[target] = found[state] + 1
                frontier.append(target)
    return found


def _example_event(verb: Verb) -> ReportEvent:
    rule = VERBS[verb]
    sources = [s for s in ReportState if s in rule.sources]
    previous = sources[0] if sources else None
    return ReportEvent(
        event_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"sp4n:example:{rule.event}")),
        report_id="5b0c3c4e-2f4d-4a53-9a43-0d2b6f1c8e71",
        version=1 if previous is None else _moves_from_submission()[previous] + 2,
        verb=verb,
        previous_state=previous,
        state=rule.target,
        kind=ReportKind.COMPLAINT,
        region_code="16.04",
        origin_node="16.04",
        institution_codes=("pemda-16.04",),
        involved_nodes=("16.04", "lapor"),
        external_refs=(ExternalRef("16.04", "LHT-1"),),
        occurred_at=datetime(2026, 11, 28, 9, 30, tzinfo=UTC),
        actor_node="16.04",
        actor_role=ActorRole.INSTITUTION_ADMIN,
    )


def _example(verb: Verb) -> dict[str, Any]:
    """A record ``encode`` made, as the document shows it."""
    record = encode(_example_event(verb))
    names = [name for name, _ in record.headers]
    unknown = sorted(set(names) - set(_HEADERS))
    if unknown:
        raise ValueError(f"encode() sends headers the document does not describe: {unknown}")
    if len(names) != len(set(names)):
        raise ValueError(f"encode() repeats a header: {names}")
    return {
        "name": f"{VERBS[verb].event}Example",
        "summary": "A record as the hub encodes it.",
        "headers": {name: value.decode() for name, value in record.headers},
        "payload": _example_event(verb).data(),
    }


def _message(verb: Verb) -> dict[str, Any]:
    rule = VERBS[verb]
    moves = (
        "creates the report"
        if not rule.sources
        else "moves a report from "
        + ", ".join(s.value for s in ReportState if s in rule.sources)
        + f" to {rule.target.value}"
    )
    return {
        "name": event_type(verb),
        "title": f"Report {rule.event}",
        "summary": f"The verb {verb.value}: {moves}.",
        "contentType": "application/json",
        "headers": _headers(event_type(verb)),
        "payload": _payload(verb),
        "bindings": {"kafka": {"key": _KEY, "bindingVersion": KAFKA_BINDING}},
        "examples": [_example(verb)],
    }


def _dead_letter() -> dict[str, Any]:
    headers = {
        "type": "object",
        "description": "The record's own headers (for an event a node refused: the "
        "CloudEvents headers of the events channel's messages), and two more naming the "
        "node and the error, each value UTF-8 text.",
        "required": list(_DEAD_LETTER_HEADERS),
        "properties": copy.deepcopy(_DEAD_LETTER_HEADERS),
    }
    return {
        "name": "dead-letter",
        "title": "Dead letter",
        "summary": "A record one node's sink could not apply.",
        "description": "Either an event the node kept refusing (after bounded retries), "
        "its key, headers and JSON value as on the events topic, or a record that could "
        "not be decoded as an SP4N event, with its key (empty if it had none), value and "
        "headers as received. Other nodes are not held up by it.",
        "headers": headers,
        "payload": {
            "description": "The record's value as it was: for a refused event, the data "
            "of its `ce_type`'s message on the events channel.",
        },
        "bindings": {
            "kafka": {
                "key": {
                    "type": "string",
                    "description": "The report's id, or empty for a malformed record "
                    "that had no key.",
                },
                "bindingVersion": KAFKA_BINDING,
            }
        },
    }


def _topic_configuration(config: Mapping[str, str]) -> dict[str, Any]:
    found: dict[str, Any] = dict(config)
    if "cleanup.policy" in found:
        found["cleanup.policy"] = found["cleanup.policy"].split(",")
    return found


def document(layout: KafkaLayout) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of the event stream on ``layout``'s topics."""
    events = {message_name(verb): _message(verb) for verb in Verb}
    refs = {name: {"$ref": f"#/components/messages/{name}"} for name in events}
    prefix_note = (
        "Topic and group names start with `SP4N_KAFKA_TOPIC_PREFIX` "
        + (f"(here `{layout.prefix}`)" if layout.prefix else "(empty by default)")
        + ", which lets several hubs share one cluster; the hub creates its topics when "
        f"they are absent, with `SP4N_KAFKA_PARTITIONS` partitions (here {layout.partitions})."
    )

    def channel_refs(channel: str, names: list[str]) -> list[dict[str, str]]:
        return [{"$ref": f"#/channels/{channel}/messages/{name}"} for name in names]

    def topic(address: str, **extra: Any) -> dict[str, Any]:
        return {
            "kafka": {
                "topic": address,
                "partitions": layout.partitions,
                "replicas": layout.replicas,
                **extra,
                "bindingVersion": KAFKA_BINDING,
            }
        }

    names = list(events)
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "SP4N hub event stream",
            "version": "1",
            "description": "The life-cycle events of the reports the SP4N-LAPOR! hub of "
            "South Sumatra federates: one event per change, as a CloudEvents 1.0 record in "
            "Kafka binary mode (attributes in `ce_*` headers, the data as the JSON value, "
            "the report id as the key). Generated from the hub's code (`schema/asyncapi.py`)"
            "; `sp4n-hub export-schema` writes it to `schema/asyncapi.yaml`, and the hub "
            "serves its own at `/asyncapi.yaml`.\n\n" + _GUARANTEES + "\n" + prefix_note,
        },
        "defaultContentType": "application/json",
        "channels": {
            "reportEvents": {
                "address": layout.events,
                "title": "Report events",
                "description": "Every committed change of every report, in order per "
                "report. Kept by the broker's retention.",
                "messages": dict(refs),
                "bindings": topic(layout.events),
            },
            "reportState": {
                "address": layout.state,
                "title": "Report state",
                "description": "The same records as the events topic, on a log-compacted "
                "topic: compaction keeps at least the latest event of each report (the "
                "key), so reading it from the start gives every report's current state "
                "(`sp4n-hub replay` rebuilds a node from it). Written after the events "
                "topic, never ahead of it.",
                "messages": dict(refs),
                "bindings": topic(
                    layout.state, topicConfiguration=_topic_configuration(layout.state_config)
                ),
            },
            "deadLetters": {
                "address": layout.dead_letters,
                "title": "Dead letters",
                "description": "Records a node's sink could not apply, with the node and "
                "the error in their headers; the sink goes on with the next record.",
                "messages": {"deadLetter": {"$ref": "#/components/messages/deadLetter"}},
                "bindings": topic(layout.dead_letters),
            },
        },
        "operations": {
            "publishReportEvents": {
                "action": "send",
                "channel": {"$ref": "#/channels/reportEvents"},
                "summary": "The outbox relay publishes each committed change.",
                "messages": channel_refs("reportEvents", names),
            },
            "publishReportState": {
                "action": "send",
                "channel": {"$ref": "#/channels/reportState"},
                "summary": "The outbox relay publishes each change again as the report's "
                "latest state, after the events topic acknowledged it.",
                "messages": channel_refs("reportState", names),
            },
            "deadLetter": {
                "action": "send",
                "channel": {"$ref": "#/channels/deadLetters"},
                "summary": "A node's sink sets aside a record it could not apply.",
                "messages": channel_refs("deadLetters", ["deadLetter"]),
            },
            "applyToNodes": {
                "action": "receive",
                "channel": {"$ref": "#/channels/reportEvents"},
                "summary": "The node sinks of each hub process read the events in one "
                f"consumer group (`{layout.sink_group_prefix}all` for every node; a "
                "worker given `--nodes` reads in a group named for them) and apply to "
                "each node the events naming it in `involvedNodes`; a node's progress "
                "is its cursor in the hub's database, moved only with the outcome's "
                "record. A sink drops event ids it has seen and never moves a report "
                "back to an older version.",
                "messages": channel_refs("reportEvents", names),
                "bindings": {
                    "kafka": {
                        "groupId": {
                            "type": "string",
                            "pattern": "^" + _literal(layout.sink_group_prefix),
                        },
                        "bindingVersion": KAFKA_BINDING,
                    }
                },
            },
            "streamToSubscribers": {
                "action": "receive",
                "channel": {"$ref": "#/channels/reportEvents"},
                "summary": "Each hub process reads the events, without a consumer group, "
                "for the `reportEvents` GraphQL subscription.",
                "messages": channel_refs("reportEvents", names),
            },
            "replayState": {
                "action": "receive",
                "channel": {"$ref": "#/channels/reportState"},
                "summary": "`sp4n-hub replay` reads the state topic from the start, "
                "without a consumer group, to rebuild a node's system.",
                "messages": channel_refs("reportState", names),
            },
        },
        "components": {
            "messages": {**events, "deadLetter": _dead_letter()},
        },
    }


class _Dumper(yaml.SafeDumper):
    """Plain YAML: no anchors for repeated parts, text of several lines as a block."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar(
        "tag:yaml.org,2002:str", value, style="|" if "\n" in value else None
    )


_Dumper.add_representer(str, _text)


def render(layout: KafkaLayout) -> str:
    """The document as YAML, in a stable order (the committed file is compared to it)."""
    return yaml.dump(
        document(layout),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=88,
        indent=2,
    )
