"""The institutions directory in GraphQL: its filter and its Relay pages (by code)."""

from __future__ import annotations

import base64
import binascii

import strawberry

from hub.api.context import Info
from hub.api.pagination import PageInfo
from hub.api.types import Institution
from hub.domain.institutions import DirectoryFilter, DirectoryPage
from hub.errors import BadInput
from schema import institutions

_PREFIX = "institution:"


def encode_cursor(code: str) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{code}".encode()).decode()


def decode_cursor(cursor: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raw = ""
    if not raw.startswith(_PREFIX):
        raise BadInput("after is not a cursor of the institutions directory")
    return raw.removeprefix(_PREFIX)


@strawberry.input(description="Every given condition must hold.")
class InstitutionFilter:
    region_code: str | None = None
    level: institutions.InstitutionLevel | None = None
    text: str | None = strawberry.field(
        default=None, description="A few letters of the name or the code, any case."
    )
    active: bool | None = strawberry.field(
        default=None, description="True: only those taking reports; false: deactivated."
    )

    def where(self) -> DirectoryFilter:
        level = institutions.InstitutionLevel(self.level) if self.level else None
        return DirectoryFilter(self.region_code, level, self.text, self.active)


@strawberry.type
class InstitutionEdge:
    cursor: str
    node: Institution


@strawberry.type(description="A page of the institutions directory, by code.")
class InstitutionConnection:
    edges: list[InstitutionEdge]
    page_info: PageInfo
    where: strawberry.Private[DirectoryFilter]

    @strawberry.field(description="How many institutions match the filter, over all pages.")
    async def total_count(self, info: Info) -> int:
        return await info.context.institutions.count(self.where)

    @classmethod
    def of(
        cls, page: DirectoryPage, where: DirectoryFilter, after: str | None
    ) -> InstitutionConnection:
        edges = [
            InstitutionEdge(cursor=encode_cursor(r.code), node=Institution.from_row(r))
            for r in page.rows
        ]
        info = PageInfo.of([e.cursor for e in edges], page.has_next, after)
        return cls(edges=edges, page_info=info, where=where)
