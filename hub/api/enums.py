"""The schema's enums exposed to GraphQL under their canonical names."""

from __future__ import annotations

import strawberry

from schema import institutions, lifecycle, nodes, regions, report

ReportState = strawberry.enum(lifecycle.ReportState, description="Canonical report state.")
Verb = strawberry.enum(lifecycle.Verb, description="A life-cycle command.")
ReportKind = strawberry.enum(report.ReportKind)
ComplaintSubKind = strawberry.enum(report.ComplaintSubKind)
Channel = strawberry.enum(report.Channel)
ArchiveReason = strawberry.enum(report.ArchiveReason)
ActorRole = strawberry.enum(report.ActorRole)
RegionType = strawberry.enum(regions.RegionType)
NodeLevel = strawberry.enum(nodes.NodeLevel)
InstitutionLevel = strawberry.enum(institutions.InstitutionLevel)
