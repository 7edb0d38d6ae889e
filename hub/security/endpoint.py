"""``POST /oauth/token``: the OAuth2 client-credentials grant (RFC 6749, section 4.4)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hub.security.clients import ClientStore
from hub.security.scopes import ScopeError, validate_scopes
from hub.security.tokens import Tokens

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _error(status: int, error: str, description: str) -> Response:
    headers = dict(_NO_STORE)
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="sp4n-hub"'
    return JSONResponse(
        {"error": error, "error_description": description}, status_code=status, headers=headers
    )


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return client_id, secret


def token_endpoint(
    clients: ClientStore, tokens: Tokens
) -> Callable[[Request], Awaitable[Response]]:
    async def issue(request: Request) -> Response:
        if request.headers.get("content-type", "").split(";")[0] != (
            "application/x-www-form-urlencoded"
        ):
            return _error(400, "invalid_request", "send application/x-www-form-urlencoded")
        # A small form: parsed here rather than pulling in a multipart library.
        raw = await request.body()
        try:
            parsed = parse_qs(raw.decode(), keep_blank_values=True, max_num_fields=10)
        except (UnicodeDecodeError, ValueError):
            return _error(400, "invalid_request", "the form cannot be parsed")
        form = {name: values[0] for name, values in parsed.items()}
        if form.get("grant_type") != "client_credentials":
            return _error(400, "unsupported_grant_type", "only client_credentials is supported")
        credentials = _basic_credentials(request)
        if credentials is None:
            client_id, secret = form.get("client_id"), form.get("client_secret")
            if not isinstance(client_id, str) or not isinstance(secret, str):
                return _error(401, "invalid_client", "client_id and client_secret are required")
            credentials = (client_id, secret)
        client = await clients.authenticate(*credentials)
        if client is None:
            return _error(401, "invalid_client", "unknown client, wrong secret or revoked")
        scopes = client.scopes
        asked = form.get("scope")
        if isinstance(asked, str) and asked.strip():
            try:
                wanted = validate_scopes(asked.split())
            except ScopeError as error:
                return _error(400, "invalid_scope", str(error))
            # A write scope includes reading the same node.
            implied = client.scopes | {
                s.removesuffix(":write") + ":read" for s in client.scopes if s.endswith(":write")
            }
            if not wanted <= implied:
                return _error(400, "invalid_scope", "the client may not ask for those scopes")
            scopes = wanted
        token = tokens.issue(client.client_id, client.node_code, scopes)
        return JSONResponse(
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": tokens.settings.lifetime_seconds,
                "scope": " ".join(sorted(scopes)),
            },
            headers=_NO_STORE,
        )

    return issue
