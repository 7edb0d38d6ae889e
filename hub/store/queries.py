"""Named SQL queries, kept in ``.sql`` files beside the code that runs them and loaded
once per process.

A file holds blocks that start with ``-- name: <query_name>``; the text up to the
next such line is the query. Queries use ``$n`` parameters only. Every ``.sql`` file
under ``hub/`` is read (a room's own queries sit in that room: ``hub/ministry/
ministry.sql``, ``hub/sync/sync.sql``...), except the numbered migrations; a name is
defined once in the whole hub.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from importlib.resources import files
from importlib.resources.abc import Traversable

_NAME = re.compile(r"^-- name: (\w+)\s*$", re.MULTILINE)


def parse(text: str) -> dict[str, str]:
    """Splits one ``.sql`` file into its named queries."""
    parts = _NAME.split(text)
    queries: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in queries:
            raise ValueError(f"query {name!r} is defined twice")
        queries[name] = body.strip()
    return queries


def sql_files(root: Traversable) -> Iterator[tuple[str, Traversable]]:
    """(path, file) of every ``.sql`` file under ``root``, migrations apart, in path order."""
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.is_dir() and entry.name not in {"migrations", "__pycache__"}:
            for path, found in sql_files(entry):
                yield f"{entry.name}/{path}", found
        elif entry.name.endswith(".sql"):
            yield entry.name, entry


def load() -> Mapping[str, str]:
    """Every named query of the hub."""
    queries: dict[str, str] = {}
    where: dict[str, str] = {}
    for path, resource in sql_files(files("hub")):
        for name, body in parse(resource.read_text(encoding="utf-8")).items():
            if name in queries:
                raise ValueError(f"query {name!r} is defined in hub/{where[name]} and hub/{path}")
            queries[name] = body
            where[name] = path
    return queries


@functools.cache
def loaded() -> Mapping[str, str]:
    """``load()`` once per process: the files do not change while it runs."""
    return load()
