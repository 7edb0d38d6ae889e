"""Tokens: every bad one is refused with 401 before any resolver or SQL runs."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.applications import Starlette

from hub.security.tokens import Tokens
from hub.store.database import StatementCounter
from tests.fixtures.app import token_for

QUERY = {"query": "{ regions { code } }"}


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": "https://hub.sp4n.sumselprov.go.id",
        "aud": "sp4n-hub",
        "sub": "tok-client",
        "node": "16.71",
        "scope": "node:16.71:write",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _signed(tokens: Tokens, claims: dict[str, Any], **header: Any) -> str:
    key = tokens.keys.current
    return jwt.encode(claims, key.private, algorithm="EdDSA", headers={"kid": key.kid, **header})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(claims: dict[str, Any], kid: str) -> str:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": kid}).encode())
    return f"{header}.{_b64(json.dumps(claims).encode())}."


def _tamper_payload(token: str) -> str:
    head, body, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims["scope"] = "province:admin"
    return f"{head}.{_b64(json.dumps(claims).encode())}.{signature}"


def _tamper_signature(token: str) -> str:
    head, body, signature = token.split(".")
    flipped = "A" if signature[0] != "A" else "B"
    return f"{head}.{body}.{flipped}{signature[1:]}"


def _hs256_with_public_key(tokens: Tokens) -> str:
    public = tokens.keys.current.public.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": tokens.keys.current.kid}).encode())
    body = _b64(json.dumps(_claims()).encode())
    import hashlib
    import hmac

    mac = hmac.new(public, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(mac)}"


def _foreign_key(tokens: Tokens) -> str:
    other = Ed25519PrivateKey.generate()
    return jwt.encode(_claims(), other, algorithm="EdDSA", headers={"kid": tokens.keys.current.kid})


CASES: dict[str, Callable[[Tokens], str]] = {
    "expired": lambda t: _signed(t, _claims(exp=int(time.time()) - 120)),
    "not yet valid": lambda t: _signed(t, _claims(nbf=int(time.time()) + 600)),
    "wrong audience": lambda t: _signed(t, _claims(aud="another-api")),
    "wrong issuer": lambda t: _signed(t, _claims(iss="https://evil.example")),
    "alg none": lambda t: _unsigned(_claims(), t.keys.current.kid),
    "HS256 with the public key": _hs256_with_public_key,
    "tampered signature": lambda t: _tamper_signature(_signed(t, _claims())),
    "tampered payload (scope raised)": lambda t: _tamper_payload(_signed(t, _claims())),
    "unknown kid": lambda t: _signed(t, _claims(), kid="no-such-key"),
    "signed by a foreign key": _foreign_key,
    "missing exp": lambda t: _signed(t, _claims(exp=None)),
    "missing scope": lambda t: _signed(t, _claims(scope=None)),
    "unknown scope": lambda t: _signed(t, _claims(scope="node:99.99:write")),
    "not a JWT": lambda t: "definitely-not-a-token",
}


@pytest.fixture
async def registered(app: Starlette) -> None:
    await token_for(app, "tok-client", "16.71", ["node:16.71:write"])


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.usefixtures("registered")
async def test_bad_tokens_are_refused_before_anything_runs(
    app: Starlette, http: httpx.AsyncClient, case: str
) -> None:
    counter: StatementCounter = app.state.database.statements
    token = CASES[case](app.state.tokens)
    before = counter.count
    response = await http.post("/graphql", json=QUERY, headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 401, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert response.headers["www-authenticate"].startswith("Bearer error=")
    assert counter.count == before


async def test_revoked_clients_and_other_schemes_are_refused(
    app: Starlette, http: httpx.AsyncClient
) -> None:
    token = await token_for(app, "soon-gone", "16.04", ["node:16.04:write"])
    ok = await http.post("/graphql", json=QUERY, headers={"authorization": f"Bearer {token}"})
    assert ok.status_code == 200
    assert await app.state.clients.revoke("soon-gone")
    refused = await http.post("/graphql", json=QUERY, headers={"authorization": f"Bearer {token}"})
    assert refused.status_code == 401
    assert "revoked" in refused.json()["errors"][0]["message"]
    basic = await http.post("/graphql", json=QUERY, headers={"authorization": "Basic eDp5"})
    assert basic.status_code == 401


async def test_client_credentials_grant(app: Starlette, http: httpx.AsyncClient) -> None:
    secret = await app.state.clients.add("lahat-app", "16.04", ["node:16.04:write"])
    response = await http.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "lahat-app",
            "client_secret": secret,
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["scope"] == "node:16.04:write"
    assert response.headers["cache-control"] == "no-store"
    principal = app.state.tokens.verify(body["access_token"])
    assert (principal.client_id, principal.node_code) == ("lahat-app", "16.04")

    basic = base64.b64encode(f"lahat-app:{secret}".encode()).decode()
    narrowed = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "node:16.04:read"},
        headers={"authorization": f"Basic {basic}"},
    )
    assert narrowed.status_code == 200, narrowed.text
    assert narrowed.json()["scope"] == "node:16.04:read"


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        (
            {"grant_type": "client_credentials", "client_id": "lahat-app", "client_secret": "x"},
            401,
            "invalid_client",
        ),
        (
            {"grant_type": "client_credentials", "client_id": "ghost", "client_secret": "x"},
            401,
            "invalid_client",
        ),
        (
            {"grant_type": "password", "client_id": "lahat-app", "client_secret": "x"},
            400,
            "unsupported_grant_type",
        ),
        (
            {
                "grant_type": "client_credentials",
                "client_id": "lahat-app",
                "client_secret": "SECRET",
                "scope": "province:admin",
            },
            400,
            "invalid_scope",
        ),
    ],
)
async def test_token_endpoint_refusals(
    app: Starlette, http: httpx.AsyncClient, form: dict[str, str], status: int, error: str
) -> None:
    secret = await app.state.clients.add("lahat-app", "16.04", ["node:16.04:write"])
    form = {k: (secret if v == "SECRET" else v) for k, v in form.items()}
    response = await http.post("/oauth/token", data=form)
    assert response.status_code == status
    assert response.json()["error"] == error
    assert secret not in response.text
