"""Persisted documents: Apollo's automatic persisted queries (APQ), and trusted documents.

**APQ** (the protocol Apollo Client and urql speak): a client sends
``extensions.persistedQuery = {version: 1, sha256Hash}`` without the query; if the
hub knows a document of that hash it runs it, else it answers the coded error
``PERSISTED_QUERY_NOT_FOUND`` and the client sends the query again with the hash,
which the hub checks and remembers (per process, the most recent 10,000) before
running it.

**Trusted documents**: ``sp4n-hub documents add FILE...`` registers documents in
PostgreSQL (checked against the schema first). With ``SP4N_TRUSTED_DOCUMENTS=1``
the hub runs only those, whether sent by hash or in full; any other is refused
with ``DOCUMENT_NOT_TRUSTED`` and APQ does not register new ones.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any, Protocol, cast
from urllib.parse import urlencode

from graphql import GraphQLSchema, parse, validate
from graphql.error import GraphQLError, GraphQLFormattedError
from starlette.requests import Request
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ErrorMessage,
    SubscribeMessage,
)

from hub.api.cached_http import Operation
from hub.errors import BadInput, HubError
from hub.store.database import Database

_LARGEST = 100_000
"""Characters of the largest document remembered by its hash."""


class PersistedQueryNotFound(HubError):
    """Apollo's clients recognise this message and code, and send the query in full."""

    code = "PERSISTED_QUERY_NOT_FOUND"


class DocumentNotTrusted(HubError):
    code = "DOCUMENT_NOT_TRUSTED"


def document_hash(text: str) -> str:
    """The hex SHA-256 of a document's text, as APQ clients compute it."""
    return hashlib.sha256(text.encode()).hexdigest()


def check_document(schema: GraphQLSchema, text: str) -> None:
    """Raises BadInput naming what is wrong unless ``text`` is a valid operation."""
    try:
        document = parse(text)
    except GraphQLError as error:
        raise BadInput(f"not a GraphQL document: {error.message}") from None
    problems = validate(schema, document)
    if problems:
        raise BadInput("; ".join(p.message for p in problems))


@dataclass(frozen=True, slots=True)
class _Persisted:
    sha256: str
    version: object


def _persisted(extensions: dict[str, object] | None) -> _Persisted | None:
    found = (extensions or {}).get("persistedQuery")
    if found is None:
        return None
    if not isinstance(found, dict) or not isinstance(found.get("sha256Hash"), str):
        raise BadInput("extensions.persistedQuery needs a sha256Hash string")
    if found.get("version") != 1:
        raise BadInput("extensions.persistedQuery.version must be 1")
    return _Persisted(str(found["sha256Hash"]).lower(), found.get("version"))


class PersistedDocuments:
    """Resolves an operation's document from its hash, and keeps the trusted set."""

    def __init__(
        self, db: Database, *, trusted_only: bool, max_tokens: int, keep: int = 10_000
    ) -> None:
        self._db = db
        self.trusted_only = trusted_only
        self._max_tokens = max_tokens
        self._keep = keep
        self._known: OrderedDict[str, str] = OrderedDict()
        """Documents by hash: APQ registrations and trusted documents looked up."""
        self._trusted: set[str] = set()

    async def resolve(self, operation: Operation) -> Operation:
        """The operation with its document; raises a coded HubError otherwise."""
        persisted = _persisted(operation.extensions)
        query = operation.query
        if query is None and persisted is None:
            return operation  # strawberry says what is missing
        if query is not None and persisted is not None and document_hash(query) != persisted.sha256:
            raise BadInput("extensions.persistedQuery.sha256Hash is not the query's hash")
        sha256 = persisted.sha256 if persisted is not None else document_hash(query or "")
        if self.trusted_only and not await self._is_trusted(sha256):
            raise DocumentNotTrusted("this hub runs only its registered documents")
        if query is not None:
            if persisted is not None and self._readable(query):
                self._remember(sha256, query)
            return operation
        text = self._known.get(sha256) or await self._trusted_text(sha256)
        if text is None:
            raise PersistedQueryNotFound("PersistedQueryNotFound")
        self._known.move_to_end(sha256)
        return replace(operation, query=text)

    async def _is_trusted(self, sha256: str) -> bool:
        return sha256 in self._trusted or await self._trusted_text(sha256) is not None

    async def _trusted_text(self, sha256: str) -> str | None:
        """A registered document, looked up and remembered by its hash; None if none is."""
        text: str | None = await self._db.fetchval("trusted_document", sha256)
        if text is not None:
            self._trusted.add(sha256)
            self._remember(sha256, text)
        return text

    def _readable(self, text: str) -> bool:
        """Worth remembering: small, and a document within the token limit (anything
        else is refused by the limits when it runs, and would only fill memory)."""
        if len(text) > _LARGEST:
            return False
        try:
            parse(text, max_tokens=self._max_tokens, no_location=True)
        except GraphQLError:
            return False
        return True

    def _remember(self, sha256: str, text: str) -> None:
        self._known[sha256] = text
        self._known.move_to_end(sha256)
        while len(self._known) > self._keep:
            self._known.popitem(last=False)


def carry_document(request: Request, operation: Operation) -> None:
    """Puts the resolved document into the request, so that strawberry reads it as if
    the client had sent it in full."""
    if request.method == "GET":
        params = dict(request.query_params)
        params["query"] = operation.query or ""
        request.scope["query_string"] = urlencode(params).encode()
        request.__dict__.pop("_query_params", None)
        return
    body = {
        "query": operation.query,
        "variables": operation.variables,
        "operationName": operation.operation_name,
        "extensions": operation.extensions,
    }
    request._body = json.dumps(body).encode()  # Starlette's cached body: what it reads


class _HasDocuments(Protocol):
    documents: PersistedDocuments


class DocumentsOverWebSocket(BaseGraphQLTransportWSHandler[Any, None]):
    """graphql-transport-ws with the same check as HTTP: an operation sent by hash is
    run from its document, and a hub of trusted documents refuses any other over a
    WebSocket too (with an ``error`` message carrying the code)."""

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        documents = cast("_HasDocuments", self.view).documents
        payload = message["payload"]
        extensions = payload.get("extensions")
        asked = Operation(
            payload.get("query"),
            payload.get("variables"),
            payload.get("operationName"),
            extensions if isinstance(extensions, dict) else None,
        )
        try:
            resolved = await documents.resolve(asked)
        except HubError as error:
            refusal = GraphQLFormattedError(message=error.message, extensions=error.extensions)
            refused = ErrorMessage(id=message["id"], type="error", payload=[refusal])
            await self.send_message(refused)
            return
        if resolved.query != asked.query:
            message = cast(
                "SubscribeMessage",
                {**message, "payload": {**payload, "query": resolved.query}},
            )
        await super().handle_subscribe(message)
