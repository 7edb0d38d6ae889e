"""The media types GraphQL answers in, chosen from the caller's ``Accept`` header.

The GraphQL-over-HTTP spec has two. With ``application/graphql-response+json`` the
status says how the operation fared: 400 for one refused before execution (parse,
validation, variables, the hub's limits), with no ``data`` entry. ``application/json``
is older: a client can trust such a body as GraphQL's only when the status is 200, so
the spec asks for 200 even then. Each caller gets the type it prefers (the newer one
when it names both at one weight). A caller that names neither (``*/*``,
``application/*``, no header) gets ``application/json`` with the hub's 400 for refused
operations, as before: the spec allows that of an existing server, and scripts and
abusive callers keep showing as 4xx in access logs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ResponseMedia:
    """How a GraphQL answer is framed in HTTP for one caller."""

    content_type: str
    refused_status: int
    """The status of an operation refused before execution (parse, validation, limits)."""
    data_when_refused: bool
    """Whether such an answer keeps ``"data": null``, which clients of old expect."""


GRAPHQL_RESPONSE = ResponseMedia("application/graphql-response+json; charset=utf-8", 400, False)
JSON_ASKED = ResponseMedia("application/json", 200, True)
JSON_UNSTATED = ResponseMedia("application/json", 400, True)

_GRAPHQL_RESPONSE_TYPE = "application/graphql-response+json"
_JSON_TYPE = "application/json"


def response_media(accept: str | None) -> ResponseMedia:
    """The framing for a request with this ``Accept`` header (RFC 9110 quality values;
    a type the header names outranks one it reaches only through a wildcard)."""
    ranges = list(_ranges(accept or ""))
    graphql_q, graphql_named = _quality(ranges, _GRAPHQL_RESPONSE_TYPE)
    json_q, json_named = _quality(ranges, _JSON_TYPE)
    if graphql_q > 0 and (graphql_q > json_q or (graphql_q == json_q and graphql_named)):
        return GRAPHQL_RESPONSE
    if json_q > 0 and json_named:
        return JSON_ASKED
    # Neither named (or nothing acceptable at all): the spec lets a server disregard
    # the header and answer application/json, its default.
    return JSON_UNSTATED


def _ranges(accept: str) -> Iterator[tuple[str, float]]:
    """``(media range, q)`` for each entry of an ``Accept`` header."""
    for entry in accept.split(","):
        media, *params = (part.strip() for part in entry.split(";"))
        if not media:
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0  # a malformed weight accepts nothing
        yield media.lower(), quality


def _quality(ranges: list[tuple[str, float]], media_type: str) -> tuple[float, bool]:
    """The q the most specific matching range gives ``media_type``, and whether that
    range names it exactly."""
    kind = media_type.partition("/")[0]
    specificity = {media_type: 2, f"{kind}/*": 1, "*/*": 0}
    best: tuple[int, float] | None = None
    for media, quality in ranges:
        rank = specificity.get(media)
        if rank is not None and (best is None or rank > best[0]):
            best = (rank, quality)
    if best is None:
        return 0.0, False
    return best[1], best[0] == 2
