"""The response cache in front of GraphQL over HTTP: a cached answer is sent as the
bytes it was; a GET answer carries an ``ETag`` and ``Cache-Control`` so clients and
proxies revalidate (``If-None-Match`` → 304); after a mutation the change feed runs
before the answer is sent, so this process never serves what the mutation changed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from graphql import GraphQLSchema, OperationType
from starlette.requests import Request
from starlette.responses import Response

from hub.api.cache import ChangeFeed, Entry, ResponseCache
from hub.api.media import ResponseMedia
from hub.api.reads import Reads
from hub.security.privacy import Viewer

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Operation:
    query: str | None
    """None when only a persisted document's hash was sent (``hub.api.documents``)."""
    variables: dict[str, object] | None
    operation_name: str | None
    extensions: dict[str, object] | None = None


async def operation_of(request: Request) -> Operation | None:
    """The operation a GET or a JSON POST carries; None for anything else, malformed
    requests included (strawberry answers those, and refuses these, itself)."""
    try:
        if request.method == "GET":
            params = request.query_params
            raw, more = params.get("variables"), params.get("extensions")
            variables = json.loads(raw) if raw else None
            extensions = json.loads(more) if more else None
            query, name = params.get("query"), params.get("operationName")
        elif request.headers.get("content-type", "").lower().startswith("application/json"):
            body = json.loads(await request.body())
            if not isinstance(body, dict):
                return None
            query, variables = body.get("query"), body.get("variables")
            name, extensions = body.get("operationName"), body.get("extensions")
        else:
            return None
    except (ValueError, UnicodeDecodeError):
        return None
    if not (query is None or isinstance(query, str)):
        return None
    if not (variables is None or isinstance(variables, dict)):
        return None
    if not (name is None or isinstance(name, str)):
        return None
    if not (extensions is None or isinstance(extensions, dict)):
        return None  # malformed: strawberry refuses it
    if query is None and extensions is None:
        return None
    return Operation(query, variables, name, extensions)


def _headers(request: Request, entry: Entry) -> dict[str, str]:
    if request.method != "GET":
        return {}
    # Answers depend on who asks: a shared cache may keep only the public's.
    scope = "private" if request.headers.get("authorization") else "public"
    return {
        "ETag": entry.etag,
        "Cache-Control": f"{scope}, no-cache",
        "Vary": "Accept, Authorization",
    }


class CachedHttp:
    """Answers from the cache what it can, and stores what it may."""

    def __init__(
        self, cache: ResponseCache, feed: ChangeFeed, schema: GraphQLSchema, max_tokens: int
    ) -> None:
        self.cache = cache
        self.feed = feed
        self._schema = schema
        self._max_tokens = max_tokens

    async def answer(
        self,
        request: Request,
        operation: Operation,
        viewer: Viewer,
        media: ResponseMedia,
        execute: Callable[[], Awaitable[Response]],
        reads: Callable[[], Reads],
    ) -> Response:
        """``execute`` runs the operation as usual; ``reads`` is what its resolvers read."""
        if operation.query is None:
            return await execute()
        plan = self.cache.plan(
            self._schema, operation.query, operation.operation_name, self._max_tokens
        )
        if plan.operation is OperationType.MUTATION:
            response = await execute()
            await self._after_mutation()
            return response
        if plan.normalised is None:
            return await execute()
        key = self.cache.key(
            plan.normalised,
            operation.operation_name,
            operation.variables,
            viewer,
            media.content_type,
        )
        entry = self.cache.get(key)
        if entry is None:
            mark = self.cache.mark
            response = await execute()
            # HubGraphQL.process_result marks an answer with data and no error.
            if response.status_code != 200 or not getattr(request.state, "complete", False):
                return response
            entry = self.cache.put(key, bytes(response.body), reads(), mark)
            if entry is not None:
                response.headers.update(_headers(request, entry))
            return response
        request.state.media = media
        headers = _headers(request, entry)
        if request.method == "GET" and request.headers.get("if-none-match") == entry.etag:
            return Response(status_code=304, headers=headers)
        return Response(entry.body, media_type="application/json", headers=headers)

    async def _after_mutation(self) -> None:
        try:
            await self.feed.catch_up()
        except Exception:  # the change is committed; what it altered is unknown
            _log.warning(
                "reading the changes after a mutation failed; cache emptied", exc_info=True
            )
            self.cache.changed([None])
