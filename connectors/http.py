"""HTTP for the JSON-speaking kinds: one httpx client per node, every call guarded.

httpx errors are wrapped here, at the edge: transport trouble and 5xx are
retryable NodeUnavailable, other 4xx are NodeRejected, a body that is not JSON
is MalformedPayload. httpx itself never retries (the Guard is the one layer).
A 404 is NodeNotFound (a NodeRejected), so a lookup can tell "no such report".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import httpx
import orjson

from connectors.errors import (
    MalformedPayload,
    NodeNotFound,
    NodeRejected,
    NodeTableError,
    NodeTimeout,
    NodeUnavailable,
)
from connectors.resilience import Guard

T = TypeVar("T")

# Status codes that mean "try again later", not "your request is wrong".
_RETRYABLE = frozenset({408, 425, 429})


class HttpNode:
    """A node's HTTP API: base URL, auth headers, and guarded JSON calls."""

    def __init__(
        self,
        node: str,
        url: str | None,
        guard: Guard,
        *,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not url:
            raise NodeTableError(node, "url is missing")
        if not url.startswith(("http://", "https://")):
            raise NodeTableError(node, f"url must be http(s)://, got {url!r}")
        self.node = node
        self.url = url
        self.guard = guard
        self._headers = dict(headers or {})
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(
                base_url=self.url,
                headers={"accept": "application/json", **self._headers},
                # A backstop only: the Guard's timeout fires first and is the one reported.
                timeout=httpx.Timeout(self.guard.policy.timeout + 1),
                transport=self._transport,
                follow_redirects=False,
            )

    async def stop(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    async def call(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: Mapping[str, str | int] | None = None,
        json_body: object = None,
        form: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """Sends one request under the node's Guard; returns the decoded JSON body."""
        return await self.read(
            method, path, what=what, params=params, json_body=json_body, form=form,
            headers=headers, parse=_as_is,
        )  # fmt: skip

    async def read(
        self,
        method: str,
        path: str,
        *,
        what: str,
        parse: Callable[[Any], T],
        params: Mapping[str, str | int] | None = None,
        json_body: object = None,
        form: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> T:
        """Like ``call``, with ``parse`` run inside the guarded attempt, so that a
        malformed body counts against the node (and is not retried).

        ``headers`` go with this request only, e.g. an ``Idempotency-Key``: the
        Guard's retries send the same key again, so the node applies the call once.
        """

        async def once() -> T:
            return parse(await self._once(method, path, what, params, json_body, form, headers))

        return await self.guard.call(what, once)

    async def _once(
        self,
        method: str,
        path: str,
        what: str,
        params: Mapping[str, str | int] | None,
        json_body: object,
        form: Mapping[str, str] | None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        if self._client is None:
            raise RuntimeError(f"connector for node {self.node} is not started")
        try:
            # httpx would join "" to the base URL with a trailing slash; an
            # endpoint URL (GraphQL, a webhook) is used exactly as configured.
            target = path or self.url
            response = await self._client.request(
                method, target, params=params, json=json_body, data=form, headers=headers
            )
        except httpx.TimeoutException:
            raise NodeTimeout(self.node, f"{what}: the node did not answer in time") from None
        except httpx.HTTPError as error:
            raise NodeUnavailable(
                self.node, f"{what}: {type(error).__name__}: {error or 'connection failed'}"
            ) from None
        status = response.status_code
        if status >= 500 or status in _RETRYABLE:
            raise NodeUnavailable(self.node, f"{what}: HTTP {status} {_snippet(response)}")
        if status == 404:
            raise NodeNotFound(self.node, f"{what}: HTTP 404 {_snippet(response)}")
        if status >= 300:
            raise NodeRejected(self.node, f"{what}: HTTP {status} {_snippet(response)}")
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            pass  # not UTF-8 JSON as orjson reads it: the standard decoder has the last word
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise MalformedPayload(
                self.node, what, f"response is not JSON: {_snippet(response)}"
            ) from None


def _as_is(body: Any) -> Any:
    return body


def _snippet(response: httpx.Response) -> str:
    text = response.text.strip().replace("\n", " ")
    return text[:200] + ("…" if len(text) > 200 else "")
