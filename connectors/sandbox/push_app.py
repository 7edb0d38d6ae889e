"""A sandbox webhook receiver standing in for push nodes' own systems.

Push nodes call the hub; the hub's events reach them here as CloudEvents,
recorded once per event id (a redelivery is acknowledged and dropped).
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.sandbox.common import json_body, ok
from connectors.sandbox.faults import Faults


class PushReceiver:
    """The events each push node received, in arrival order."""

    def __init__(self, nodes: Mapping[str, str], faults: Faults) -> None:
        self.tokens = dict(nodes)
        self.faults = faults
        self.received: dict[str, list[dict[str, object]]] = {node: [] for node in nodes}
        self._seen: set[tuple[str, str]] = set()

    def build_app(self) -> Starlette:
        async def events(request: Request) -> Response:
            node = request.path_params["node"]
            if node not in self.received:
                raise HTTPException(404, f"no node {node} here")
            await self.faults.gate(node)
            if request.headers.get("authorization") != f"Bearer {self.tokens[node]}":
                raise HTTPException(401, "missing or wrong bearer token")
            if request.method == "GET":
                return ok(self.received[node])
            event = await json_body(request)
            event_id = event.get("id")
            if not isinstance(event_id, str) or event.get("specversion") != "1.0":
                raise HTTPException(400, "not a CloudEvent (id, specversion 1.0)")
            if (node, event_id) not in self._seen:
                self._seen.add((node, event_id))
                self.received[node].append(event)
            return ok({"diterima": event_id}, 202)

        return Starlette(routes=[Route("/{node}/events", events, methods=["GET", "POST"])])
