"""Named SQL queries, kept in ``.sql`` files and loaded once per process.

A file holds blocks that start with ``-- name: <query_name>``; the text up to
the next such line is the query. Queries use ``$n`` parameters only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from importlib.resources import files

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


def load() -> Mapping[str, str]:
    """Every named query of ``hub/store/sql``."""
    queries: dict[str, str] = {}
    for resource in sorted(files("hub.store.sql").iterdir(), key=lambda r: r.name):
        if resource.name.endswith(".sql"):
            for name, body in parse(resource.read_text(encoding="utf-8")).items():
                if name in queries:
                    raise ValueError(f"query {name!r} is defined in two files")
                queries[name] = body
    return queries
