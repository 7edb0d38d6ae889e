"""Who reads the dashboard, and which regions' figures and reports they see."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hub.security.privacy import Viewer
from hub.security.scopes import Principal
from schema.regions import REGIONS

_REGION_CODES = frozenset(r.code for r in REGIONS)


class NotSignedIn(Exception):
    """The public: the dashboard is for signed-in people."""


class NoDashboard(Exception):
    """Signed in, but with no role the dashboard serves."""


@dataclass(frozen=True, slots=True)
class Reader:
    """A dashboard reader: every region (the ministry, the province's admins) or the
    regions of the nodes it reads for (a regency's coordinator)."""

    principal: Principal
    viewer: Viewer
    regions: frozenset[str] | None
    """None: every region."""

    @classmethod
    def of(cls, principal: Principal, may_read_figures: Callable[[Principal], bool]) -> Reader:
        """``may_read_figures`` is the hub's one decision on the ministry's figures."""
        if principal.is_public:
            raise NotSignedIn
        viewer = Viewer.of(principal)
        if may_read_figures(principal):
            return cls(principal, viewer, None)
        regions = principal.nodes("read") & _REGION_CODES
        if not regions:
            raise NoDashboard
        return cls(principal, viewer, frozenset(regions))

    @property
    def everywhere(self) -> bool:
        return self.regions is None

    def sees_region(self, code: str) -> bool:
        return self.regions is None or code in self.regions

    def sees_institution(self, region_code: str | None) -> bool:
        """An institution's figures: a regency reader sees its own region's institutions."""
        return self.regions is None or (region_code is not None and region_code in self.regions)
