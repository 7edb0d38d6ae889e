"""The three ASGI apps a benchmark serves, as uvicorn factories (``--factory``).

Each runs in its own uvicorn process and reads what it needs from the
environment when uvicorn calls the factory, never at import time:

* ``hub``: the real hub, ``create_app(Settings.from_env(os.environ))``;
* ``static``: the bytes of a recorded hub response, for any POST (the ceiling
  of Starlette and uvicorn);
* ``memory``: a minimal strawberry schema of its own, with the hub's field
  shapes, resolving the recorded reports from memory.
"""

from __future__ import annotations

import enum
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import strawberry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

FIXTURE_ENV = "SP4N_BENCH_FIXTURE"
"""Path of the recorded hub response that ``static`` and ``memory`` serve."""


def _fixture() -> bytes:
    path = os.environ.get(FIXTURE_ENV)
    if not path:
        raise RuntimeError(f"{FIXTURE_ENV} must name the recorded response (a JSON file)")
    return Path(path).read_bytes()


def hub() -> Starlette:
    """The hub as it ships, configured from the environment like the real CLI."""
    # Imported here: the baselines must not pay for importing the hub.
    from hub.app import create_app
    from hub.settings import Settings

    return create_app(Settings.from_env(os.environ))


def static() -> Starlette:
    """Answers every POST with the recorded bytes, after reading the request body."""
    body = _fixture()

    async def graphql(request: Request) -> Response:
        await request.body()  # read it, as any real endpoint would
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route("/graphql", graphql, methods=["POST"])])


# The baseline's own enums: same names and values as the hub's, none of its code.
@strawberry.enum
class ReportKind(enum.Enum):
    ASPIRATION = "ASPIRATION"
    COMPLAINT = "COMPLAINT"
    INFORMATION_REQUEST = "INFORMATION_REQUEST"


@strawberry.enum
class ReportState(enum.Enum):
    SUBMITTED = "SUBMITTED"
    POSTPONED = "POSTPONED"
    VERIFIED = "VERIFIED"
    DISPOSED = "DISPOSED"
    IN_FOLLOW_UP = "IN_FOLLOW_UP"
    COMPLETED = "COMPLETED"
    ARCHIVED = "ARCHIVED"


@strawberry.enum
class Channel(enum.Enum):
    WEB = "WEB"
    SMS_1708 = "SMS_1708"
    MOBILE_APP = "MOBILE_APP"
    TWITTER = "TWITTER"
    INTEGRATED_APP = "INTEGRATED_APP"
    FACE_TO_FACE = "FACE_TO_FACE"


@strawberry.type
class Region:
    code: str
    name: str


@strawberry.type
class Institution:
    code: str
    name: str


@strawberry.type
class Report:
    id: strawberry.ID
    title: str
    kind: ReportKind
    state: ReportState
    label: strawberry.Private[str]
    version: int
    submitted_at: datetime
    channel: Channel
    anonymous: bool
    confidential: bool
    region: Region | None
    institution: Institution | None

    @strawberry.field
    def state_label(self) -> str:
        return self.label


@strawberry.type
class ReportEdge:
    node: Report


@strawberry.type
class ReportConnection:
    edges: list[ReportEdge]


@strawberry.type
class Query:
    """The root value: it carries the reports, so no module state is needed."""

    stored: strawberry.Private[list[Report]]

    @strawberry.field
    def reports(self, first: int = 20) -> ReportConnection:
        return ReportConnection(edges=[ReportEdge(node=r) for r in self.stored[:first]])


class _MemoryGraphQL(GraphQL[None, Query]):
    def __init__(self, reports: list[Report]) -> None:
        super().__init__(strawberry.Schema(query=Query), graphql_ide=None)
        self._root = Query(stored=reports)

    async def get_root_value(self, request: Request | WebSocket) -> Query:
        return self._root


def _report(node: dict[str, Any]) -> Report:
    region, institution = node["region"], node["institution"]
    return Report(
        id=strawberry.ID(node["id"]),
        title=node["title"],
        kind=ReportKind(node["kind"]),
        state=ReportState(node["state"]),
        label=node["stateLabel"],
        version=node["version"],
        submitted_at=datetime.fromisoformat(node["submittedAt"]),
        channel=Channel(node["channel"]),
        anonymous=node["anonymous"],
        confidential=node["confidential"],
        region=Region(code=region["code"], name=region["name"]) if region else None,
        institution=(
            Institution(code=institution["code"], name=institution["name"]) if institution else None
        ),
    )


def memory() -> Starlette:
    """Plain strawberry: default settings, sync resolvers, the reports in memory."""
    recorded = json.loads(_fixture())
    reports = [_report(edge["node"]) for edge in recorded["data"]["reports"]["edges"]]
    graphql = _MemoryGraphQL(reports)
    return Starlette(routes=[Route("/graphql", graphql, methods=["POST"])])
