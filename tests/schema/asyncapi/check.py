"""Checks a Kafka record against an AsyncAPI document's channel, with the schemas the
document itself holds (never the code's): which message it is, then its headers, key
and payload against that message's schemas."""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft7Validator, FormatChecker

from schema.envelope import Headers

# AsyncAPI 3.0's schema objects are a superset of JSON Schema draft 07. FormatChecker()
# checks every format jsonschema knows, ``uuid`` and ``date-time`` among them.
_FORMATS = FormatChecker()


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        ref: str = node["$ref"]
        assert ref.startswith("#/"), ref
        found: Any = document
        for part in ref[2:].split("/"):
            found = found[part]
        node = found
    return node


def _problems(schema: dict[str, Any], instance: object, what: str) -> list[str]:
    Draft7Validator.check_schema(schema)
    validator = Draft7Validator(schema, format_checker=_FORMATS)
    return [
        f"{what} {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
        for e in validator.iter_errors(instance)
    ]


def messages_of(document: dict[str, Any], channel: str) -> dict[str, dict[str, Any]]:
    """The channel's messages by name, references resolved."""
    found = document["channels"][channel]["messages"]
    return {name: _resolve(document, ref) for name, ref in found.items()}


def check_record(
    document: dict[str, Any],
    channel: str,
    key: bytes | None,
    value: bytes | None,
    headers: Headers,
) -> tuple[str | None, list[str]]:
    """(the name of the message the record is, what does not fit): the message is the one
    channel message whose headers schema the headers fit."""
    names = [name for name, _ in headers]
    if len(names) != len(set(names)):
        return None, [f"repeated headers: {names}"]
    texts = {name: raw.decode() for name, raw in headers}
    fitting = {
        name: message
        for name, message in messages_of(document, channel).items()
        if not _problems(message["headers"], texts, "header")
    }
    if len(fitting) != 1:
        why = {
            name: _problems(message["headers"], texts, "header")
            for name, message in messages_of(document, channel).items()
        }
        return None, [f"headers fit {len(fitting)} messages of {channel}, not one: {why}"]
    [(name, message)] = fitting.items()
    problems = _problems(message["bindings"]["kafka"]["key"], (key or b"").decode(), f"{name} key")
    try:
        payload = json.loads(value or b"")
    except json.JSONDecodeError as error:
        return name, [*problems, f"{name} payload is not JSON: {error}"]
    problems += _problems(message["payload"], payload, f"{name} payload")
    return name, problems
