"""Builds the strawberry schema with its extensions."""

from __future__ import annotations

import logging
from collections.abc import Callable

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from hub.api.limits import cost_rule
from hub.api.mutation import Mutation
from hub.api.query import Query
from hub.api.subscription import Subscription
from hub.errors import HubError
from hub.outages import database_unavailable, is_outage
from hub.settings import Limits

_log = logging.getLogger(__name__)


def _should_mask(error: GraphQLError) -> bool:
    """Coded errors reach the client; anything else is masked: an outage of the database
    as ``UNAVAILABLE``, any other fault as ``INTERNAL`` (logged with its traceback)."""
    original = error.original_error
    if original is None or isinstance(original, HubError):
        return False
    if is_outage(original):
        # Logged once per outage by the OutageIs503 middleware, not once per request.
        _log.debug("answering UNAVAILABLE at %s: %s", error.path, original)
    else:
        _log.error("unexpected error in %s", error.path, exc_info=original)
    return True


class MaskUncodedErrors(MaskErrors):
    """Masks every error the hub did not raise on purpose, keeping a code for clients."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=_should_mask, error_message="Internal error.")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        if error.original_error is not None and is_outage(error.original_error):
            coded = database_unavailable(error.original_error)
            masked.message = coded.message
            masked.extensions = coded.extensions
        else:
            masked.extensions = {"code": "INTERNAL", "retryable": True}
        return masked


class HubSchema(strawberry.Schema):
    """Client errors (coded, or refused in validation) are the client's business: logged
    at debug level. Unexpected faults are logged once, with their traceback, where they
    are masked."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            _log.debug("GraphQL error for the client: %s", error.message)


def extensions(
    limits: Limits, *, production: bool
) -> list[type[SchemaExtension] | Callable[[], SchemaExtension]]:
    """The limits, caches and error masking every schema of the hub runs with."""
    rule = cost_rule(limits.cost_budget, limits.max_page_size)
    # Factories: strawberry builds fresh extensions per request; the parser and
    # validation caches are module-level LRUs shared across requests.
    found: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        lambda: QueryDepthLimiter(max_depth=limits.max_depth),
        lambda: MaxAliasesLimiter(max_alias_count=limits.max_aliases),
        lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
        lambda: AddValidationRules([rule]),
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
        MaskUncodedErrors,
    ]
    if production:
        found.append(DisableIntrospection)
    return found


def build_schema(limits: Limits | None = None, *, production: bool = False) -> strawberry.Schema:
    """The hub's schema; ``production`` turns off introspection and field suggestions."""
    return HubSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(disable_field_suggestions=production),
        extensions=extensions(limits or Limits(), production=production),
    )


def sdl() -> str:
    """The schema as SDL, as committed in ``schema/hub.graphql``."""
    return build_schema().as_str() + "\n"
