"""HTTP for the JSON-speaking kinds: one aiohttp session per node, every call guarded.

aiohttp errors are wrapped here, at the edge: transport trouble and 5xx are
retryable NodeUnavailable (a timeout NodeTimeout), other 4xx are NodeRejected (409
and 412, a conditional write the node refused, NodeConflict), a body that is not
JSON is MalformedPayload. aiohttp itself never retries (the Guard
is the one layer). A 404 is NodeNotFound (a NodeRejected), so a lookup can tell
"no such report".

aiohttp rather than httpx: a write-back is one small request to a node, and the
hub sends thousands a second at its target; httpx spent about 4 ms of the hub's CPU
on each (its connection pool re-checks every pooled connection on every request),
aiohttp a fraction of that (``bench.e2e_connectors``, bench/RESULTS.md). What goes
on the wire is what httpx sent: the same URLs (paths joined to the node's URL, the
query and form encoded alike), JSON bodies encoded alike, redirects not followed,
proxies taken from the environment and certificates checked against certifi's
bundle (or ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``), as httpx did.
"""

from __future__ import annotations

import json
import os
import ssl
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlencode

import aiohttp
import certifi
import orjson
from aiohttp.helpers import get_env_proxy_for_url
from yarl import URL

from connectors.errors import (
    MalformedPayload,
    NodeConflict,
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
_FORM = "application/x-www-form-urlencoded"
_KEEP_ALIVE = 1.0
"""Seconds an idle connection to a node is kept for the next call. Below the idle
timeout of the servers a node may run (uvicorn's, Apache's and Node's 5 s, gunicorn's
2 s): aiohttp reuses its oldest idle connection first, so with a longer keep-alive its
calls meet connections the server is closing that instant ("Connection reset by
peer"; a full ``bench.e2e_connectors`` run at 15 s, aiohttp's default, saw dozens and
opened two circuits). httpx kept them 5 s and polled each socket before reusing it,
the per-call cost this client avoids."""


class HttpNode:
    """A node's HTTP API: base URL, auth headers, and guarded JSON calls."""

    def __init__(
        self,
        node: str,
        url: str | None,
        guard: Guard,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if not url:
            raise NodeTableError(node, "url is missing")
        if not url.startswith(("http://", "https://")):
            raise NodeTableError(node, f"url must be http(s)://, got {url!r}")
        self.node = node
        self.url = url
        self.guard = guard
        # A path is joined to the node's URL as httpx's base_url did: appended to it.
        self._base = url if url.endswith("/") else url + "/"
        self._headers = {"accept": "application/json", **(headers or {})}
        # A JSON body goes as the node's own content type if the table gives one (a
        # push node's CloudEvents), else as application/json.
        self._json_type = {"content-type": "application/json"}
        for name, value in self._headers.items():
            if name.lower() == "content-type":
                self._json_type = {"content-type": value}
        self._form_type = {"content-type": _FORM}
        self._session: aiohttp.ClientSession | None = None
        self._proxy: URL | None = None
        self._proxy_auth: aiohttp.BasicAuth | None = None

    async def start(self) -> None:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                # The Guard lets at most ``concurrency`` calls through at once.
                limit=self.guard.policy.concurrency,
                keepalive_timeout=_KEEP_ALIVE,
                ssl=_ssl_context() if self.url.startswith("https://") else True,
            )
            self._session = aiohttp.ClientSession(
                headers=self._headers,
                connector=connector,
                # A backstop only: the Guard's timeout fires first and is the one reported.
                timeout=aiohttp.ClientTimeout(total=self.guard.policy.timeout + 1),
            )
            try:  # the environment's proxy for the node, as httpx's trust_env had it
                self._proxy, self._proxy_auth = get_env_proxy_for_url(URL(self.url))
            except LookupError:
                self._proxy, self._proxy_auth = None, None

    async def stop(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

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
        # What goes on the wire is built once; the Guard's retries send the same bytes.
        url = self._target(path, params)
        body: bytes | None = None
        sent = dict(headers) if headers else {}
        if json_body is not None:
            body = json.dumps(
                json_body, ensure_ascii=False, separators=(",", ":"), allow_nan=False
            ).encode()
            sent = {**self._json_type, **sent}
        elif form is not None:
            body = urlencode(list(form.items())).encode()
            sent = {**self._form_type, **sent}

        async def once() -> T:
            return parse(await self._once(method, url, what, body, sent))

        return await self.guard.call(what, once)

    def _target(self, path: str, params: Mapping[str, str | int] | None) -> str:
        # An endpoint URL (GraphQL, a webhook) is used exactly as configured.
        if not path:
            url = self.url
        elif path.startswith(("http://", "https://")):
            url = path
        else:
            url = self._base + path.lstrip("/")
        if params:
            url += ("&" if "?" in url else "?") + urlencode(list(params.items()))
        return url

    async def _once(
        self, method: str, url: str, what: str, body: bytes | None, headers: Mapping[str, str]
    ) -> Any:
        if self._session is None:
            raise RuntimeError(f"connector for node {self.node} is not started")
        try:
            async with self._session.request(
                method, url, data=body, headers=headers, allow_redirects=False,
                proxy=self._proxy, proxy_auth=self._proxy_auth,
            ) as response:  # fmt: skip
                status = response.status
                content = await response.read()
                charset = response.charset
        except TimeoutError:
            raise NodeTimeout(self.node, f"{what}: the node did not answer in time") from None
        except aiohttp.ClientError as error:
            raise NodeUnavailable(
                self.node, f"{what}: {type(error).__name__}: {error or 'connection failed'}"
            ) from None
        if status >= 500 or status in _RETRYABLE:
            raise NodeUnavailable(self.node, f"{what}: HTTP {status} {_snippet(content, charset)}")
        if status == 404:
            raise NodeNotFound(self.node, f"{what}: HTTP 404 {_snippet(content, charset)}")
        if status in (409, 412):
            raise NodeConflict(self.node, f"{what}: HTTP {status} {_snippet(content, charset)}")
        if status >= 300:
            raise NodeRejected(self.node, f"{what}: HTTP {status} {_snippet(content, charset)}")
        try:
            return orjson.loads(content)
        except orjson.JSONDecodeError:
            pass  # not UTF-8 JSON as orjson reads it: the standard decoder has the last word
        try:
            return json.loads(content)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise MalformedPayload(
                self.node, what, f"response is not JSON: {_snippet(content, charset)}"
            ) from None


def _as_is(body: Any) -> Any:
    return body


def _ssl_context() -> ssl.SSLContext:
    """Certificates checked as httpx checked them: ``SSL_CERT_FILE`` or ``SSL_CERT_DIR``
    when set, else certifi's bundle."""
    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    return ssl.create_default_context(cafile=certifi.where())


def _snippet(content: bytes, charset: str | None) -> str:
    try:
        text = content.decode(charset or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        text = content.decode("utf-8", errors="replace")
    text = text.strip().replace("\n", " ")
    return text[:200] + ("…" if len(text) > 200 else "")
