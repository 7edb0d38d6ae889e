"""Reading a node's JSON (or row) payload field by field, with errors that name the field.

Every accessor takes a dotted path (``kategori.induk.id``) and raises
``MalformedPayload`` naming the node and the full path when the value is
missing or of the wrong type, so a bad payload is diagnosed in one line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime

from connectors.errors import MalformedPayload


def as_mapping(node: str, where: str, value: object) -> Mapping[str, object]:
    """``value`` as a JSON object, or a MalformedPayload naming ``where``."""
    if type(value) is dict:  # what JSON decodes to; spares the ABC check per record
        return value
    if not isinstance(value, Mapping):
        raise MalformedPayload(node, where, f"expected an object, got {_describe(value)}")
    return value


def as_list(node: str, where: str, value: object) -> Sequence[object]:
    """``value`` as a JSON array, or a MalformedPayload naming ``where``."""
    if not isinstance(value, list):
        raise MalformedPayload(node, where, f"expected a list, got {_describe(value)}")
    return value


def _describe(value: object) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}{'…' if len(text) > 60 else ''}"


_STEPS: dict[str, tuple[str, ...]] = {}
"""Dotted paths split once: the node tables' few field paths are read for every record."""
_STEPS_KEPT = 4096


class Item:
    """One object of a node's payload, read with typed, path-naming accessors."""

    def __init__(self, node: str, where: str, data: object) -> None:
        self.node = node
        self.where = where
        self.data = as_mapping(node, where, data)

    def _path(self, path: str) -> str:
        return f"{self.where}.{path}"

    def _fail(self, path: str, problem: str) -> MalformedPayload:
        return MalformedPayload(self.node, self._path(path), problem)

    def raw(self, path: str) -> object:
        """The value at ``path``, or None when any step is missing or null."""
        steps = _STEPS.get(path)
        if steps is None:
            steps = tuple(path.split("."))
            if len(_STEPS) < _STEPS_KEPT:
                _STEPS[path] = steps
        value: object = self.data
        for step in steps:
            if type(value) is not dict and not isinstance(value, Mapping):
                return None
            value = value.get(step)
            if value is None:
                return None
        return value

    def _required(self, path: str, value: object) -> object:
        if value is None:
            raise self._fail(path, "is missing")
        return value

    def text(self, path: str) -> str:
        """A non-empty string (numbers are accepted: ids are often sent as numbers)."""
        value = self._required(path, self.raw(path))
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise self._fail(path, f"expected a string, got {_describe(value)}")
        text = str(value).strip()
        if not text:
            raise self._fail(path, "is empty")
        return text

    def opt_text(self, path: str) -> str | None:
        value = self.raw(path)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return self.text(path)

    def integer(self, path: str) -> int:
        value = self._required(path, self.raw(path))
        if isinstance(value, bool):
            raise self._fail(path, f"expected an integer, got {_describe(value)}")
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
        raise self._fail(path, f"expected an integer, got {_describe(value)}")

    def opt_number(self, path: str) -> float | None:
        value = self.raw(path)
        if value is None:
            return None
        if isinstance(value, bool):
            raise self._fail(path, f"expected a number, got {_describe(value)}")
        if isinstance(value, int | float):
            return float(value)
        try:
            return float(str(value))
        except ValueError:
            raise self._fail(path, f"expected a number, got {_describe(value)}") from None

    def flag(self, path: str) -> bool:
        """A boolean; absent means False. Accepts 0/1 and ya/tidak, as nodes send them."""
        value = self.raw(path)
        if value is None:
            return False
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise self._fail(path, f"expected a boolean, got {_describe(value)}")

    def moment(self, path: str) -> datetime:
        """A timezone-aware datetime; a time without a UTC offset is refused, not assumed."""
        value = self._required(path, self.raw(path))
        if isinstance(value, datetime):
            parsed = value
        elif isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            except ValueError:
                raise self._fail(path, f"expected an ISO 8601 datetime, got {value!r}") from None
        else:
            raise self._fail(path, f"expected an ISO 8601 datetime, got {_describe(value)}")
        if parsed.utcoffset() is None:
            raise self._fail(path, f"datetime {value!s} has no UTC offset")
        return parsed

    def opt_day(self, path: str) -> date | None:
        value = self.raw(path)
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip()[:10])
            except ValueError:
                pass
        raise self._fail(path, f"expected a date (YYYY-MM-DD), got {_describe(value)}")

    def texts(self, path: str) -> tuple[str, ...]:
        """A list of strings (ids or tags); absent means empty."""
        value = self.raw(path)
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self._fail(path, f"expected a list, got {_describe(value)}")
        out: list[str] = []
        for i, entry in enumerate(value):
            if isinstance(entry, Mapping):
                entry = entry.get("id")
            if isinstance(entry, bool) or not isinstance(entry, str | int):
                raise self._fail(f"{path}[{i}]", f"expected a string, got {_describe(entry)}")
            out.append(str(entry))
        return tuple(out)

    def fail(self, path: str, problem: str) -> MalformedPayload:
        """An error about ``path`` for checks the accessors cannot express."""
        return self._fail(path, problem)


_TRUE = frozenset({"true", "1", "ya", "y", "yes"})
_FALSE = frozenset({"false", "0", "tidak", "t", "no", "n"})
