"""The canonical change record a pull produces, and what a live read returns.

A record is validated when it is built: a connector either yields a whole page
of sound records or raises, never half a page.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from schema.lifecycle import ReportState
from schema.regions import REGIONS
from schema.report import (
    ArchiveReason,
    Channel,
    ComplaintSubKind,
    PrivacyFlags,
    ReportKind,
)

_REGION_CODES = frozenset(r.code for r in REGIONS)


@dataclass(frozen=True, slots=True)
class ReporterIdentity:
    """Reporter identity as a node gave it: personal data, never in a log line."""

    name: str | None = field(default=None, repr=False)
    nik: str | None = field(default=None, repr=False)
    phone: str | None = field(default=None, repr=False)
    email: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return "ReporterIdentity(<personal data hidden>)"


@dataclass(frozen=True, slots=True)
class PulledReply:
    """The reporter's answer to a follow-up, as the node recorded it: the node's id for
    it and what was said, never who said it."""

    reply_id: str
    content: str


@dataclass(frozen=True, slots=True)
class PulledRating:
    """The reporter's rating of a completed report (1 to 5), as the node recorded it."""

    score: int
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class ExternalChange:
    """One report as a node shows it now, in canonical terms.

    ``state`` is None when the node's status mapping does not know
    ``raw_state``: the connector reports it and never guesses, so the hub can
    put it in its review queue. ``agrees_with`` is every canonical state whose
    write-back label equals ``raw_state``; when the hub's report is already in
    one of them the node is showing what the hub holds (an echo of a
    write-back, or a vocabulary coarser than ours) and there is no state news.
    """

    node: str
    external_id: str
    external_version: str
    """Opaque; changes whenever the node changes the report. Pages may overlap
    at their boundary, so the hub dedupes on (node, external_id, external_version)."""
    state: ReportState | None
    raw_state: str
    agrees_with: frozenset[ReportState]
    kind: ReportKind
    title: str
    content: str
    region_code: str
    submitted_at: datetime
    occurred_at: datetime
    """When the node recorded the current state; timezone-aware."""
    complaint_sub_kind: ComplaintSubKind | None = None
    topic_id: int | None = None
    raw_topic: str | None = None
    """The node's own category, kept when it does not map to a hub topic."""
    institution_code: str | None = None
    channel: Channel = Channel.INTEGRATED_APP
    privacy: PrivacyFlags = field(default_factory=PrivacyFlags)
    note: str | None = None
    """The node's latest note (status notes, tanggapan): follow-up content."""
    archive_reason: ArchiveReason | None = None
    incident_date: date | None = None
    location: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    tags: tuple[str, ...] = ()
    attachments: tuple[str, ...] = ()
    """Opaque attachment references; their content is read live through ``fetch``."""
    reporter: ReporterIdentity | None = None
    hub_report_id: str | None = None
    """The hub's id for the report when the hub created it at the node: the reference
    the node keeps (``id_eksternal`` and the like). A pull recognises such a report
    by it even if the hub had not yet recorded the node's id for it (a crash between
    creating and linking), and links it instead of submitting it as new."""
    replies: tuple[PulledReply, ...] = ()
    """Every reply of the reporter the node holds for the report, oldest first."""
    rating: PulledRating | None = None

    def __post_init__(self) -> None:
        if (
            str(self.external_id).strip()
            and str(self.external_version).strip()
            and str(self.raw_state).strip()
            and str(self.title).strip()
            and str(self.content).strip()
            and self.submitted_at.utcoffset() is not None
            and self.occurred_at.utcoffset() is not None
            and self.region_code in _REGION_CODES
            and (self.state is None or self.state in self.agrees_with)
            and (self.latitude is None) == (self.longitude is None)
        ):
            return  # sound, as nearly every record is; the same checks name the problems below
        problems = [
            *(
                f"{name} is empty"
                for name in ("external_id", "external_version", "raw_state", "title", "content")
                if not str(getattr(self, name)).strip()
            ),
            *(
                f"{name} has no UTC offset"
                for name in ("submitted_at", "occurred_at")
                if getattr(self, name).utcoffset() is None
            ),
        ]
        if self.region_code not in _REGION_CODES:
            problems.append(f"region_code {self.region_code!r} is not a South Sumatra region")
        if self.state is not None and self.state not in self.agrees_with:
            problems.append(f"state {self.state.value} does not agree with {self.raw_state!r}")
        if (self.latitude is None) != (self.longitude is None):
            problems.append("latitude and longitude go together")
        if problems:
            # A bug in a connector, not a node's fault: fail loudly.
            raise ValueError(
                f"ExternalChange {self.node}/{self.external_id}: {'; '.join(problems)}"
            )

    @property
    def idempotency_key(self) -> str:
        """A key for the hub's command: the same node version always gives the same key."""
        digest = hashlib.sha256(
            f"{self.node}\x00{self.external_id}\x00{self.external_version}".encode()
        ).hexdigest()
        return f"pull-{digest[:40]}"


@dataclass(frozen=True, slots=True)
class ChangePage:
    """A batch of changes and the watermark to persist once the batch is applied.

    A pull is a stream of pages, so the hub can apply (or COPY) one batch at a
    time and restart from the last persisted watermark after a crash.
    """

    changes: tuple[ExternalChange, ...]
    watermark: str


@dataclass(frozen=True, slots=True)
class Attachment:
    """An attachment, read live from the owning node."""

    ref: str
    name: str
    media_type: str
    url: str
    size: int | None = None


@dataclass(frozen=True, slots=True)
class LiveRecord:
    """What a node serves live about one report (fields the hub does not copy)."""

    external_id: str
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, slots=True)
class FetchResult:
    """A batched live read: the records found, and the refs the node does not know."""

    records: Mapping[str, LiveRecord]
    missing: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class NodeReport:
    """One report as the node shows it when looked up (``BaseConnector.find``).

    A write-back whose outcome is unknown (the hub stopped after calling the node
    and before recording the answer) is reconciled against this: only what the
    node does not show yet is sent again.
    """

    external_id: str
    raw_state: str
    """The node's own status label."""
    institution: str | None = None
    note: str | None = None
    events: frozenset[str] | None = None
    """The hub event ids the node says it has applied to the report; None when its
    protocol does not tell, and the label has to do."""


@dataclass(frozen=True, slots=True)
class ReportContent:
    """What a node needs to create a report it has not seen, fetched from the hub.

    Events carry no content, so a connector asks the hub (with its node's
    authorisation) before it can create the report in the node's system.
    """

    report_id: str
    title: str
    content: str
    kind: ReportKind
    region_code: str
    topic_id: int
    institution_code: str
    privacy: PrivacyFlags
    location: str | None = None
    latitude: float | None = None
    longitude: float | None = None
