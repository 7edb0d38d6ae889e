"""A person's credentials: an argon2id password hash and an optional TOTP second factor.

argon2-cffi's defaults are RFC 9106's second recommendation (argon2id, 64 MiB, three
passes): memory-hard, so a stolen table is slow to guess at even on a GPU. A check
takes a good part of a second on a small machine, so callers run it off the event
loop (``asyncio.to_thread``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ISSUER = "SP4N Sumsel"
MIN_PASSWORD_LENGTH = 12
_TOTP_WINDOW = 1
"""Codes of the step before and after now are accepted too (clocks drift, people type)."""


@dataclass(frozen=True, slots=True)
class Checked:
    """A password check: whether it matched, and a fresh hash if the stored one is weaker
    than today's parameters (stored on the next successful login)."""

    matched: bool
    rehashed: str | None = None


class Passwords:
    """Hashes and checks passwords with argon2id."""

    def __init__(self) -> None:
        self._hasher = PasswordHasher()

    @functools.cached_property
    def _decoy(self) -> str:
        """Checked against when a login names no account, so timing does not tell."""
        return self._hasher.hash("no such account")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def check(self, stored: str | None, password: str) -> Checked:
        """Whether ``password`` matches ``stored``; None spends the same effort, and fails."""
        try:
            self._hasher.verify(stored or self._decoy, password)
        except (VerificationError, InvalidHashError):
            return Checked(False)
        if stored is None:
            return Checked(False)
        if self._hasher.check_needs_rehash(stored):
            return Checked(True, self._hasher.hash(password))
        return Checked(True)


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
    if password != password.strip():
        return "a password may not start or end with white space"
    return None


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, login: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads (as text or a QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=login, issuer_name=ISSUER)


def totp_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step ``code`` is valid for around ``now``, or None if it is not valid.

    The step lets the caller refuse a code that was used already (a replay)."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    step = totp.timecode(now)
    for offset in range(-_TOTP_WINDOW, _TOTP_WINDOW + 1):
        if pyotp.utils.strings_equal(totp.at(now, counter_offset=offset), code):
            return step + offset
    return None
