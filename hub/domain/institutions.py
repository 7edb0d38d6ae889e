"""The institutions directory: who a report can be addressed to, kept by admins.

The seed (``schema/institutions.py``: the national ministries, the province's
perangkat daerah, every kabupaten/kota's government and its own dinas and badan)
is loaded once; from then on the province's admins keep the directory, through
GraphQL or ``sp4n-hub institutions``:

- **add** an institution (a regency's new dinas, a kecamatan, a UPT); the node
  whose system handles its reports is its region's node unless another is named,
  so a report forwarded to a regency's dinas is written back to that regency;
- **rename** one (names change with reorganisations; the code stays);
- **deactivate** one, saying why: it keeps its history and the reports it holds,
  and takes no new disposition or submission (``hub.domain.core`` refuses them).

Every edit is audited and moves ``institutions.changed_at``, which the response
cache watches, since cached answers name institutions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from hub.errors import BadInput, NotFound
from hub.security.audit import AuditLog
from hub.store.connection import Session
from hub.store.database import Database
from hub.store.rows import InstitutionRow, typed
from schema.institutions import InstitutionLevel
from schema.nodes import NATIONAL_NODE
from schema.regions import RegionType

CODE = re.compile(r"[a-z0-9][a-z0-9.-]{1,62}")
"""An institution's code: lower-case letters, digits, dots and hyphens, 2 to 63."""
NAME_LIMIT = 200
NOTE_LIMIT = 500
TEXT_LIMIT = 100

_LEVEL_REGIONS: dict[InstitutionLevel, frozenset[RegionType]] = {
    InstitutionLevel.REGENCY_GOVERNMENT: frozenset({RegionType.KABUPATEN, RegionType.KOTA}),
    InstitutionLevel.REGENCY_OPD: frozenset({RegionType.KABUPATEN, RegionType.KOTA}),
    InstitutionLevel.PROVINCIAL_OPD: frozenset({RegionType.PROVINCE}),
}
"""The regions an institution of each level sits in; a NATIONAL one has none."""


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class NewInstitution:
    code: str
    name: str
    level: InstitutionLevel
    region_code: str | None
    node_code: str | None = None
    """The node whose system handles its reports; None: its region's (national: LAPOR!)."""


@dataclass(frozen=True, slots=True)
class DirectoryFilter:
    """Every given condition must hold."""

    region_code: str | None = None
    level: InstitutionLevel | None = None
    text: str | None = None
    """A few letters of the name or the code, any case."""
    active: bool | None = None

    def params(self) -> tuple[str | None, str | None, str | None, bool | None]:
        pattern = None
        if self.text is not None:
            text = self.text.strip().lower()
            if not 1 <= len(text) <= TEXT_LIMIT:
                raise BadInput(f"filter.text must be 1 to {TEXT_LIMIT} characters")
            escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern = f"%{escaped}%"
        level = self.level.value if self.level is not None else None
        return self.region_code, level, pattern, self.active


@dataclass(frozen=True, slots=True)
class DirectoryPage:
    rows: tuple[InstitutionRow, ...]
    has_next: bool


def _name(name: str) -> str:
    name = " ".join(name.split())
    if not 3 <= len(name) <= NAME_LIMIT:
        raise BadInput(f"an institution's name must be 3 to {NAME_LIMIT} characters")
    return name


@dataclass(slots=True)
class InstitutionDirectory:
    db: Database
    audit: AuditLog
    clock: Callable[[], datetime] = _now

    async def page(
        self, where: DirectoryFilter, first: int, after: str | None = None
    ) -> DirectoryPage:
        """Up to ``first`` institutions by code, after code ``after``."""
        rows = await self.db.rows(
            InstitutionRow, "institutions_page", *where.params(), after, first + 1
        )
        return DirectoryPage(tuple(rows[:first]), len(rows) > first)

    async def count(self, where: DirectoryFilter) -> int:
        found: int = await self.db.fetchval("institutions_count", *where.params())
        return found

    async def get(self, code: str) -> InstitutionRow:
        row = await self.db.row(InstitutionRow, "institution_by_code", code)
        if row is None:
            raise NotFound(f"no institution with code {code!r}")
        return row

    async def add(self, new: NewInstitution, admin: str) -> InstitutionRow:
        if not CODE.fullmatch(new.code):
            raise BadInput(
                f"code {new.code!r}: use 2 to 63 lower-case letters, digits, dots and "
                "hyphens, starting with a letter or digit (e.g. opd-16.71-dinkes)"
            )
        name = _name(new.name)
        node = await self._node_of(new)
        async with self.db.transaction() as session:
            added = await session.fetchrow(
                "institution_add", new.code, name, new.level.value, node, new.region_code,
                f"added by {admin}", self.clock(), admin,
            )  # fmt: skip
            if added is None:
                raise BadInput(f"an institution with code {new.code!r} exists already")
            await self._audit("INSTITUTION_ADD", admin, node, new.code, session)
        return typed(InstitutionRow, added)

    async def rename(self, code: str, name: str, admin: str) -> InstitutionRow:
        name = _name(name)
        async with self.db.transaction() as session:
            renamed = await session.fetchrow("institution_rename", code, name, self.clock(), admin)
            if renamed is None:
                raise NotFound(f"no institution with code {code!r}")
            row = typed(InstitutionRow, renamed)
            await self._audit("INSTITUTION_RENAME", admin, row.node_code, code, session)
        return row

    async def deactivate(self, code: str, note: str, admin: str) -> InstitutionRow:
        """Refuses new reports from now on; history and held reports stay."""
        note = note.strip()
        if not 1 <= len(note) <= NOTE_LIMIT:
            raise BadInput(
                f"deactivating an institution needs a note of 1 to {NOTE_LIMIT} characters"
            )
        async with self.db.transaction() as session:
            done = await session.fetchrow("institution_deactivate", code, self.clock(), note, admin)
            if done is None:
                current = await self.get(code)  # NotFound when there is none
                raise BadInput(f"institution {current.code!r} is deactivated already")
            row = typed(InstitutionRow, done)
            await self._audit("INSTITUTION_DEACTIVATE", admin, row.node_code, code, session)
        return row

    async def _node_of(self, new: NewInstitution) -> str:
        """The node that will handle the institution's reports, checked against its level."""
        if new.level is InstitutionLevel.NATIONAL:
            if new.region_code is not None:
                raise BadInput("a NATIONAL institution has no regionCode")
            place = await self.db.fetchrow(
                "institution_place", None, new.node_code or NATIONAL_NODE
            )
            assert place is not None
            if not place["node_known"]:
                raise BadInput(f"nodeCode {new.node_code!r} is not a node of the federation")
            return new.node_code or NATIONAL_NODE
        if new.region_code is None:
            raise BadInput(f"a {new.level.value} institution needs a regionCode")
        place = await self.db.fetchrow("institution_place", new.region_code, new.node_code)
        assert place is not None
        if place["region_type"] is None:
            raise BadInput(f"regionCode {new.region_code!r} is not a region of the province")
        allowed = _LEVEL_REGIONS[new.level]
        if RegionType(place["region_type"]) not in allowed:
            kinds = " or ".join(sorted(k.value for k in allowed))
            raise BadInput(
                f"a {new.level.value} institution sits in a {kinds} region, "
                f"not in {new.region_code} ({place['region_type']})"
            )
        if new.node_code is not None:
            if not place["node_known"]:
                raise BadInput(f"nodeCode {new.node_code!r} is not a node of the federation")
            return new.node_code
        node: str | None = place["region_node"]
        if node is None:
            raise BadInput(f"region {new.region_code} has no node: name one with nodeCode")
        return node

    async def _audit(self, action: str, admin: str, node: str, code: str, session: Session) -> None:
        await self.audit.record(
            client_id=admin, node_code=node, action=action, report_id=None,
            outcome=f"OK:{code}", session=session,
        )  # fmt: skip
