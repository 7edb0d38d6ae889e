"""Who may see what of a report: the privacy table of DOMAIN.md, in one place.

| viewer                       | normal       | anonim        | rahasia | both          |
| public, uninvolved, ministry | content+name | content       | nothing | nothing       |
| an involved node             | all          | content, no id| all     | content, no id|
| verifying admins (province)  | all          | all           | all     | all           |
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from hub.security.scopes import Principal

IDENTITY_FIELDS = ("name", "nik", "phone", "email")


@dataclass(frozen=True, slots=True)
class Viewer:
    """What the privacy rules need to know about a caller."""

    sees_everything: bool
    nodes: frozenset[str]
    """Nodes whose reports the caller reads as an involved institution."""

    @classmethod
    def of(cls, principal: Principal) -> Viewer:
        return cls(principal.is_admin, principal.nodes("read"))

    def involved(self, report_nodes: Collection[str]) -> bool:
        return self.sees_everything or not self.nodes.isdisjoint(report_nodes)

    def may_see_report(self, confidential: bool, report_nodes: Collection[str]) -> bool:
        return not confidential or self.involved(report_nodes)

    def identity_fields(
        self, anonymous: bool, confidential: bool, report_nodes: Collection[str]
    ) -> tuple[str, ...]:
        """The reporter fields this viewer may read; empty means none at all."""
        if self.sees_everything:
            return IDENTITY_FIELDS
        if self.involved(report_nodes):
            return () if anonymous else IDENTITY_FIELDS
        if anonymous or confidential:
            return ()
        return ("name",)


PUBLIC_VIEWER = Viewer(False, frozenset())
