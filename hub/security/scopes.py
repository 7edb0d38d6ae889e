"""Scopes and the principal a request acts as.

``node:<code>:write`` acts on reports of its own node or disposed to its
institutions; ``node:<code>:read`` reads like an involved institution;
``province:admin`` verifies and sees everything; ``ministry:read`` reads the
aggregated figures. No token means the public.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from schema.nodes import NODES

PROVINCE_ADMIN = "province:admin"
MINISTRY_READ = "ministry:read"
_NODE_SCOPE = re.compile(r"^node:([\w.]+):(read|write)$")
_NODE_CODES = frozenset(n.code for n in NODES)


class ScopeError(ValueError):
    """A scope that does not exist; the message names it."""


def validate_scopes(scopes: list[str]) -> frozenset[str]:
    for scope in scopes:
        if scope in (PROVINCE_ADMIN, MINISTRY_READ):
            continue
        match = _NODE_SCOPE.match(scope)
        if not match:
            raise ScopeError(f"unknown scope {scope!r}")
        if match[1] not in _NODE_CODES:
            raise ScopeError(f"scope {scope!r} names no federation node")
    return frozenset(scopes)


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller: an authenticated client, or the public (``client_id`` None)."""

    client_id: str | None
    node_code: str | None
    scopes: frozenset[str]

    @property
    def is_public(self) -> bool:
        return self.client_id is None

    @property
    def is_admin(self) -> bool:
        return PROVINCE_ADMIN in self.scopes

    def nodes(self, access: str) -> frozenset[str]:
        """Node codes this principal has ``read`` or ``write`` access for."""
        found = set()
        for scope in self.scopes:
            match = _NODE_SCOPE.match(scope)
            if match and (match[2] == access or (access == "read" and match[2] == "write")):
                found.add(match[1])
        return frozenset(found)


PUBLIC = Principal(None, None, frozenset())
