"""The token signing keys: Ed25519, one PEM file per key id, rotated by adding a key.

The newest key signs; every key in the folder still verifies, so tokens issued
before a rotation stay valid until they expire. Removing a file retires a key.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from hub.errors import ConfigError


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    private: Ed25519PrivateKey

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()


class KeyRing:
    """The keys a hub process signs and verifies with."""

    def __init__(self, keys: list[SigningKey]) -> None:
        if not keys:
            raise ConfigError("no token signing key: run `sp4n-hub keys rotate`")
        self._keys = {k.kid: k for k in keys}
        self.current = keys[-1]

    def public_key(self, kid: str) -> Ed25519PublicKey | None:
        key = self._keys.get(kid)
        return key.public if key else None

    @property
    def kids(self) -> list[str]:
        return list(self._keys)

    @classmethod
    def generate(cls) -> KeyRing:
        """A ring with one fresh key, for tests and throwaway processes."""
        return cls([_new_key()])

    @classmethod
    def load(cls, folder: Path, *, create: bool) -> KeyRing:
        """Loads ``folder/*.pem`` (oldest first by name); creates a first key if asked."""
        if create and not any(folder.glob("*.pem")):
            rotate(folder)
        keys = []
        for path in sorted(folder.glob("*.pem")):
            try:
                private = serialization.load_pem_private_key(path.read_bytes(), password=None)
            except ValueError as error:
                raise ConfigError(f"{path} is not a PEM private key: {error}") from None
            if not isinstance(private, Ed25519PrivateKey):
                raise ConfigError(f"{path} is not an Ed25519 key")
            keys.append(SigningKey(path.stem, private))
        return cls(keys)


def _new_key() -> SigningKey:
    kid = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"
    return SigningKey(kid, Ed25519PrivateKey.generate())


def rotate(folder: Path) -> str:
    """Adds a new signing key to ``folder``; returns its key id."""
    folder.mkdir(parents=True, exist_ok=True)
    key = _new_key()
    pem = key.private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path = folder / f"{key.kid}.pem"
    # Private keys are readable by their owner only.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    return key.kid
