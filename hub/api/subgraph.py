"""The hub as an Apollo Federation v2 subgraph: ``Report``, ``Region`` and ``Institution``
are entities other subgraphs of a supergraph may extend.

The subgraph's schema is the hub's own (the same types, resolvers, limits and privacy),
its queries and mutations, plus the two fields a gateway asks of a subgraph:
``_service { sdl }`` and ``_entities(representations:)``. The entities' keys live in
the SDL the gateway reads, not on the Python types: strawberry's federation directives
on the shared types would put ``@key`` and ``_FieldSet`` into the hub's own schema too.
``_entities`` looks the representations up through the request's DataLoaders, so a
batch costs one statement per entity type, whatever its size.
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Mapping, Sequence
from typing import Annotated, NewType

import strawberry
from graphql import (
    ConstArgumentNode,
    ConstDirectiveNode,
    DefinitionNode,
    DocumentNode,
    FieldDefinitionNode,
    NameNode,
    ObjectTypeDefinitionNode,
    StringValueNode,
    parse,
    print_ast,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types.scalar import ScalarDefinition

from hub.api.context import Info
from hub.api.mutation import Mutation
from hub.api.query import Query, parse_id, visible
from hub.api.schema import HubSchema, extensions
from hub.api.types import Institution, Region, Report
from hub.errors import BadInput
from hub.settings import Limits

FEDERATION_SPEC = "https://specs.apollo.dev/federation/v2.3"
"""The Federation version the SDL links; v2.3 is composed by every current gateway."""

KEYS: Mapping[str, str] = {"Report": "id", "Region": "code", "Institution": "code"}
"""Each entity type and the field that identifies it (its ``@key``)."""

_OWN_TYPES = frozenset({"_Any", "_Entity", "_Service"})
_OWN_FIELDS = frozenset({"_entities", "_service"})

Representation = NewType("Representation", object)
"""Federation's ``_Any``: an entity's representation, its ``__typename`` and its key."""

_SCALARS: Mapping[object, ScalarDefinition] = {
    Representation: strawberry.scalar(
        name="_Any",
        description="An entity's representation: its __typename and its key.",
        serialize=lambda value: value,
        parse_value=lambda value: value,
    )
}

Entity = Annotated[Report | Region | Institution, strawberry.union("_Entity")]


@strawberry.type(name="_Service")
class Service:
    sdl: str = strawberry.field(description="The subgraph's schema, with its entity keys.")


Wanted = tuple[str, str | uuid.UUID]
"""A representation read: its type's name and its key (a report's id parsed)."""


def _wanted(representation: object) -> Wanted:
    """What a representation asks for, or a coded error naming what is wrong with it."""
    if not isinstance(representation, dict):
        raise BadInput("a representation must be an object with __typename and its key")
    type_name = representation.get("__typename")
    if not isinstance(type_name, str) or type_name not in KEYS:
        raise BadInput(f"{type_name!r} is not an entity of this subgraph ({', '.join(KEYS)})")
    key = representation.get(KEYS[type_name])
    if not isinstance(key, str):
        raise BadInput(f"a {type_name} representation needs its {KEYS[type_name]} as a string")
    return type_name, parse_id(key) if type_name == "Report" else key


async def _entity(info: Info, wanted: Wanted) -> Entity | None:
    loaders = info.context.loaders
    match wanted:
        case ("Report", uuid.UUID() as report_id):
            return visible(info, await loaders.report.load(report_id))
        case ("Region", str(code)):
            region = await loaders.region.load(code)
            return Region.from_row(region) if region else None
        case ("Institution", str(code)):
            institution = await loaders.institution.load(code)
            return Institution.from_row(institution) if institution else None
    raise AssertionError(wanted)  # _wanted makes nothing else


async def _entities(info: Info, representations: Sequence[object]) -> list[Entity | None]:
    limit = info.context.settings.limits.max_page_size
    if len(representations) > limit:
        raise BadInput(f"at most {limit} representations at once, got {len(representations)}")
    wanted = [_wanted(r) for r in representations]  # all checked before any is read
    # Loaded together, so each type's DataLoader reads its keys with one statement.
    return list(await asyncio.gather(*(_entity(info, w) for w in wanted)))


@strawberry.type(name="Query")
class SubgraphQuery(Query):
    @strawberry.field(
        name="_entities",
        description="Entities by their representations, in order; null for one that is "
        "unknown or that the caller may not see.",
    )
    async def entities(
        self, info: Info, representations: list[Representation]
    ) -> list[Entity | None]:
        return await _entities(info, representations)

    @strawberry.field(name="_service")
    def service(self) -> Service:
        return Service(sdl=subgraph_sdl())


def build_subgraph_schema(
    limits: Limits | None = None, *, production: bool = False
) -> strawberry.Schema:
    """The subgraph's schema: the hub's queries and mutations (a supergraph carries no
    subscriptions), with the hub's limits and error masking."""
    return HubSchema(
        query=SubgraphQuery,
        mutation=Mutation,
        config=StrawberryConfig(disable_field_suggestions=production, scalar_map=_SCALARS),
        extensions=extensions(limits or Limits(), production=production),
    )


def _key(fields: str) -> ConstDirectiveNode:
    return ConstDirectiveNode(
        name=NameNode(value="key"),
        arguments=(
            ConstArgumentNode(name=NameNode(value="fields"), value=StringValueNode(value=fields)),
        ),
    )


def _for_gateway(definition: DefinitionNode) -> DefinitionNode | None:
    """A definition of the printed schema as the gateway reads it: without federation's
    own fields and types, with ``@key`` on the entities."""
    if not isinstance(definition, ObjectTypeDefinitionNode):
        named = getattr(definition, "name", None)
        return None if named is not None and named.value in _OWN_TYPES else definition
    name = definition.name.value
    if name in _OWN_TYPES:
        return None
    fields: tuple[FieldDefinitionNode, ...] = tuple(
        f for f in definition.fields or () if f.name.value not in _OWN_FIELDS
    )
    directives = tuple(definition.directives or ())
    if name in KEYS:
        directives = (*directives, _key(KEYS[name]))
    return ObjectTypeDefinitionNode(
        description=definition.description,
        name=definition.name,
        interfaces=definition.interfaces,
        directives=directives,
        fields=fields,
    )


@functools.cache
def subgraph_sdl() -> str:
    """The SDL a gateway composes, as committed in ``schema/subgraph.graphql``: the
    subgraph's schema linking Federation v2's ``@key``, without federation's own fields."""
    printed = parse(build_subgraph_schema().as_str())
    kept = [d for d in map(_for_gateway, printed.definitions) if d is not None]
    link = f'extend schema @link(url: "{FEDERATION_SPEC}", import: ["@key"])'
    return f"{link}\n\n{print_ast(DocumentNode(definitions=tuple(kept)))}\n"
