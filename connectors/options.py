"""Reading a node's kind-specific ``options`` with errors that name node and key."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from connectors.errors import NodeTableError


class Options:
    """Typed access to ``[nodes.<code>.options]``; a bad value fails at start."""

    def __init__(self, node: str, values: Mapping[str, object]) -> None:
        self.node = node
        self.values = values
        self._read: set[str] = set()

    def _fail(self, key: str, problem: str) -> NodeTableError:
        return NodeTableError(self.node, f"options.{key} {problem}")

    def text(self, key: str, default: str | None = None) -> str:
        self._read.add(key)
        value = self.values.get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise self._fail(key, f"must be a non-empty string, got {value!r}")
        return value

    def opt_text(self, key: str) -> str | None:
        if self.values.get(key) is None:
            self._read.add(key)
            return None
        return self.text(key)

    def integer(self, key: str, default: int, *, low: int = 1, high: int = 1_000_000) -> int:
        self._read.add(key)
        value = self.values.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self._fail(key, f"must be an integer from {low} to {high}, got {value!r}")
        return value

    def moment(self, key: str, default: str) -> datetime:
        """An ISO 8601 datetime with a UTC offset."""
        text = self.text(key, default)
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise self._fail(key, f"must be an ISO 8601 datetime, got {text!r}") from None
        if value.utcoffset() is None:
            raise self._fail(key, f"needs a UTC offset, got {text!r}")
        return value

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.text(key, default)
        if value not in choices:
            raise self._fail(key, f"must be one of {', '.join(choices)}, got {value!r}")
        return value

    def table(self, key: str, default: Mapping[str, str] | None = None) -> Mapping[str, str]:
        """A table of string values (a field mapping)."""
        self._read.add(key)
        value = self.values.get(key, default)
        if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) and v for k, v in value.items()
        ):
            raise self._fail(key, "must be a table of non-empty strings")
        return value

    def finish(self) -> None:
        """Refuses keys nobody read: a typo must not silently fall back to a default."""
        unknown = sorted(set(self.values) - self._read)
        if unknown:
            raise NodeTableError(self.node, f"options has unknown keys {unknown}")
