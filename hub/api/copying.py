"""Building a GraphQL object from the row or figure it shows."""

from __future__ import annotations

import dataclasses
from typing import TypeVar

T = TypeVar("T")


def copied(cls: type[T], source: object, **given: object) -> T:
    """``cls`` (a strawberry type) with each of its fields read from ``source``'s
    attribute of the same name, except those in ``given``: the fields that are named
    otherwise there, or shown converted."""
    names = (f.name for f in dataclasses.fields(cls) if f.init)  # type: ignore[arg-type]
    values = {name: getattr(source, name) for name in names if name not in given}
    return cls(**values, **given)
