"""Numbered SQL migrations, applied in order under an advisory lock."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from importlib.resources import files

from hub.store.connection import Session

_log = logging.getLogger(__name__)

# Any constant will do; it only has to be the same for every hub process.
_LOCK_ID = 0x5F4A_0001
_FILE = re.compile(r"^(\d{4})_(\w+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def available() -> list[Migration]:
    """The migrations shipped with the hub, oldest first."""
    found = []
    for resource in files("hub.store.sql.migrations").iterdir():
        match = _FILE.match(resource.name)
        if match:
            found.append(Migration(int(match[1]), match[2], resource.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..n without gaps, found {versions}")
    return found


async def migrate(session: Session) -> list[Migration]:
    """Brings the database to head; returns the migrations it applied.

    Several hub processes may start at once: the advisory lock makes the others
    wait, and they then find nothing left to do.
    """
    await session.execute("lock_migrations", _LOCK_ID)
    try:
        await session.execute("create_migrations_table")
        done = {r["version"] for r in await session.fetch("applied_migrations")}
        applied = []
        for migration in available():
            if migration.version in done:
                continue
            async with session.transaction():
                await session.raw.execute(migration.sql)
                await session.execute("record_migration", migration.version, migration.name)
            _log.info("applied migration %04d_%s", migration.version, migration.name)
            applied.append(migration)
        return applied
    finally:
        await session.execute("unlock_migrations", _LOCK_ID)
