"""A second subgraph for the supergraph tests: a petition site that counts the
supporters of the hub's reports. It extends the hub's ``Report`` entity with
``supporters`` and lists the reports it has petitions for by their ids alone; the
rest of each report comes from the hub, through the gateway."""

from __future__ import annotations

from dataclasses import dataclass, field

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL


@dataclass
class Petitions:
    """What the site holds: supporters per report id, in the order it lists them."""

    supporters: dict[str, int] = field(default_factory=dict)


@strawberry.federation.type(keys=["id"])
class Report:
    id: strawberry.ID

    @strawberry.field
    def supporters(self, info: strawberry.Info[Petitions, None]) -> int:
        """How many people signed a petition for the report."""
        return info.context.supporters.get(self.id, 0)


@strawberry.type
class Query:
    @strawberry.field
    def petitioned(self, info: strawberry.Info[Petitions, None]) -> list[Report | None]:
        """The reports with a petition, most supported first."""
        ranked = sorted(info.context.supporters.items(), key=lambda kv: -kv[1])
        return [Report(id=strawberry.ID(report_id)) for report_id, _ in ranked]


class PetitionsApp(GraphQL[Petitions, None]):
    """The subgraph over HTTP, answering from ``petitions``."""

    def __init__(self, petitions: Petitions) -> None:
        super().__init__(strawberry.federation.Schema(query=Query, federation_version="2.3"))
        self.petitions = petitions

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Petitions:
        return self.petitions
