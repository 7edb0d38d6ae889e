"""Short-lived signed access tokens (JWT, EdDSA): issued at /oauth/token, checked on every call."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

import jwt

from hub.security.keys import KeyRing
from hub.security.scopes import Principal, ScopeError, validate_scopes

ALGORITHM = "EdDSA"


class TokenError(Exception):
    """A token that must be refused; ``reason`` is safe to show the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class TokenSettings:
    issuer: str = "https://hub.sp4n.sumselprov.go.id"
    audience: str = "sp4n-hub"
    lifetime_seconds: int = 900
    leeway_seconds: int = 5


class Tokens:
    """Issues and verifies tokens with one key ring."""

    def __init__(self, keys: KeyRing, settings: TokenSettings | None = None) -> None:
        self.keys = keys
        self.settings = settings or TokenSettings()

    def issue(self, client_id: str, node_code: str | None, scopes: frozenset[str]) -> str:
        now = int(time.time())
        claims = {
            "iss": self.settings.issuer,
            "aud": self.settings.audience,
            "sub": client_id,
            "node": node_code,
            "scope": " ".join(sorted(scopes)),
            "iat": now,
            "nbf": now,
            "exp": now + self.settings.lifetime_seconds,
            "jti": secrets.token_hex(8),
        }
        key = self.keys.current
        return jwt.encode(claims, key.private, algorithm=ALGORITHM, headers={"kid": key.kid})

    def verify(self, token: str) -> Principal:
        """The principal a token stands for; raises TokenError before anything else runs."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise TokenError("the token is not a JWT") from None
        if header.get("alg") != ALGORITHM:
            raise TokenError(f"tokens must be signed with {ALGORITHM}")
        kid = header.get("kid")
        key = self.keys.public_key(kid) if isinstance(kid, str) else None
        if key is None:
            raise TokenError("the token's signing key is unknown")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self.settings.audience,
                issuer=self.settings.issuer,
                leeway=self.settings.leeway_seconds,
                options={"require": ["exp", "nbf", "iat", "iss", "aud", "sub", "scope"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenError("the token has expired") from None
        except jwt.ImmatureSignatureError:
            raise TokenError("the token is not valid yet") from None
        except jwt.InvalidAudienceError:
            raise TokenError("the token is for another audience") from None
        except jwt.InvalidIssuerError:
            raise TokenError("the token comes from another issuer") from None
        except jwt.InvalidSignatureError:
            raise TokenError("the token's signature does not verify") from None
        except jwt.InvalidTokenError as error:
            raise TokenError(f"the token is invalid: {error}") from None
        scope, node = claims.get("scope"), claims.get("node")
        if not isinstance(scope, str) or not (node is None or isinstance(node, str)):
            raise TokenError("the token's scope or node claim is malformed")
        try:
            scopes = validate_scopes(scope.split())
        except ScopeError as error:
            raise TokenError(str(error)) from None
        return Principal(str(claims["sub"]), node, scopes)
