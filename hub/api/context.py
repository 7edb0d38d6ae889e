"""The typed per-request context every resolver receives."""

from __future__ import annotations

from dataclasses import dataclass, field

from strawberry.types import Info as _Info

from connectors.federation import Federation
from hub.api.loaders import Loaders
from hub.api.reads import Reads
from hub.domain.commands import Actor
from hub.domain.duplicates import Duplicates
from hub.domain.institutions import InstitutionDirectory
from hub.domain.ratings import Ratings
from hub.domain.review import ReviewDesk
from hub.domain.service import ReportService
from hub.ministry.context import MinistryRequest
from hub.security.audit import AuditLog
from hub.security.privacy import Viewer
from hub.security.scopes import Principal
from hub.settings import Settings
from hub.store.database import Database
from hub.sync.supervisor import SyncSupervisor


@dataclass(slots=True)
class Context:
    db: Database
    service: ReportService
    settings: Settings
    actor: Actor | None
    """Who acts for mutations; None when the caller may not change reports."""
    loaders: Loaders
    sync: SyncSupervisor | None
    principal: Principal
    audit: AuditLog
    ministry: MinistryRequest
    review: ReviewDesk
    duplicates: Duplicates
    ratings: Ratings
    institutions: InstitutionDirectory
    federation: Federation | None = None
    """The nodes' connectors; None when this hub runs none."""
    connection_params: dict[str, object] | None = None
    """A WebSocket's ``connection_init`` payload (strawberry sets it); None over HTTP."""
    reads: Reads = field(default_factory=Reads)
    """What the resolvers read of reports: what a cached answer depends on."""

    @property
    def viewer(self) -> Viewer:
        return Viewer.of(self.principal)


Info = _Info[Context, None]
