"""What the sandbox apps share: node lookup, auth, fault gates and small renderers."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from connectors.sandbox.faults import Faults
from connectors.sandbox.store import NodeSystem
from schema.institutions import INSTITUTIONS
from schema.topics import TOPICS

TOPIC_NAMES = {t.id: t.name for t in TOPICS}
TOPIC_PARENTS = {t.id: t.parent_id for t in TOPICS}
INSTITUTION_NAMES = {i.code: i.name for i in INSTITUTIONS}


@dataclass(slots=True)
class Backend:
    """The node systems one app serves, their tokens, and the fault switches."""

    systems: Mapping[str, NodeSystem]
    tokens: Mapping[str, str]
    faults: Faults

    async def enter(self, request: Request, *, auth: bool = True) -> NodeSystem:
        """Resolves ``/{node}/...``, applies the node's fault, then checks its token."""
        node = request.path_params["node"]
        system = self.systems.get(node)
        if system is None:
            raise HTTPException(404, f"no node {node} here")
        await self.faults.gate(node)
        if auth and request.headers.get("authorization") != f"Bearer {self.tokens[node]}":
            raise HTTPException(401, "missing or wrong bearer token")
        return system


_KIND_WORDS = {
    "pengaduan": "COMPLAINT",
    "aspirasi": "ASPIRATION",
    "permintaan_informasi": "INFORMATION_REQUEST",
}


def kind_of(value: object, default: str) -> str:
    """A report kind sent by the hub, as a canonical name or a LAPOR!-style word."""
    text = str(value or "")
    return text if text in _KIND_WORDS.values() else _KIND_WORDS.get(text, default)


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def parse_time(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise HTTPException(400, f"{name} is not an ISO 8601 datetime") from None
    if moment.utcoffset() is None:
        raise HTTPException(400, f"{name} needs a UTC offset")
    return moment


def int_param(request: Request, name: str, default: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= high:
        raise HTTPException(400, f"{name} must be an integer from 1 to {high}")
    return int(raw)


async def json_body(request: Request) -> dict[str, object]:
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise HTTPException(400, "body is not JSON") from None
    except ClientDisconnect:
        # The caller went away mid-request (e.g. a hub killed): nothing to answer.
        raise HTTPException(400, "the client disconnected") from None
    if not isinstance(body, dict):
        raise HTTPException(400, "body must be a JSON object")
    return body


def ok(data: object, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status)


async def keyed(
    request: Request, system: NodeSystem, answer: Callable[[], Awaitable[Response]]
) -> Response:
    """Runs ``answer`` once per ``Idempotency-Key``: a request repeating a key gets the
    first (successful) answer again and has no second effect, as systems honouring
    the header do. A request without a key, or a system honouring none, just runs."""
    key = request.headers.get("idempotency-key")
    if key is None:
        return await answer()
    first = system.first_answer(key)
    if first is not None:
        status, body = first
        return Response(body, status_code=status, media_type="application/json")
    response = await answer()
    if 200 <= response.status_code < 300:
        system.remember_answer(key, response.status_code, bytes(response.body))
    return response
