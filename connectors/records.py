"""The declarative field mapping: a node's record in, an ExternalChange out.

A field map names, for each canonical field, the dotted path of the node's
field (``{ title = "judul", raw_state = "status.label" }``). The ``rest``,
``graphql`` and ``postgres`` kinds take it from the node table; ``open311``
and ``lapor`` use fixed ones for their fixed contracts.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TypeVar

from connectors.change import (
    Attachment,
    ExternalChange,
    LiveRecord,
    NodeReport,
    PulledRating,
    PulledReply,
    ReporterIdentity,
)
from connectors.config import NodeConfig
from connectors.errors import NodeTableError
from connectors.payload import Item, as_list, as_mapping
from schema.institutions import INSTITUTIONS
from schema.lifecycle import ReportState
from schema.regions import REGIONS
from schema.report import ArchiveReason, Channel, ComplaintSubKind, PrivacyFlags, ReportKind

REQUIRED = (
    "external_id", "external_version", "raw_state", "title", "content",
    "submitted_at", "occurred_at",
)  # fmt: skip
OPTIONAL = (
    "kind", "complaint_sub_kind", "region_code", "category", "institution", "channel",
    "anonymous", "confidential", "note", "archive_reason", "incident_date", "location",
    "latitude", "longitude", "tags", "attachments",
    "reporter_name", "reporter_nik", "reporter_phone", "reporter_email", "hub_report_id",
    "replies", "reply_id", "reply_content", "rating_score", "rating_comment",
)  # fmt: skip
_TOGETHER = (("replies", "reply_id", "reply_content"),)
"""Fields mapped all or none: the list of replies and the keys inside each entry."""

_REGIONS = frozenset(r.code for r in REGIONS)
_INSTITUTIONS = frozenset(i.code for i in INSTITUTIONS)


E = TypeVar("E", bound=enum.Enum)


def _words(table: Mapping[str, tuple[str, ...]], enum_type: type[E]) -> dict[str, E]:
    return {w: enum_type(name) for name, words in table.items() for w in (name.lower(), *words)}


# The words nodes use, lower-cased; the canonical names are always accepted too.
_KINDS = _words(
    {
        "ASPIRATION": ("aspirasi", "saran"),
        "COMPLAINT": ("pengaduan", "keluhan"),
        "INFORMATION_REQUEST": ("permintaan informasi", "permintaan_informasi", "informasi"),
    },
    ReportKind,
)
_CHANNELS = _words(
    {
        "WEB": ("website", "situs"),
        "SMS_1708": ("sms", "1708"),
        "MOBILE_APP": ("android", "ios", "aplikasi", "mobile"),
        "TWITTER": ("x",),
        "INTEGRATED_APP": ("aplikasi_terintegrasi", "integrasi", "api"),
        "FACE_TO_FACE": ("tatap_muka", "tatap muka", "langsung"),
    },
    Channel,
)
_SUB_KINDS = _words(
    {
        "SUPERVISORY": ("berkadar pengawasan", "true", "ya"),
        "NON_SUPERVISORY": ("tidak berkadar pengawasan", "false", "tidak"),
    },
    ComplaintSubKind,
)
_ARCHIVE = _words(
    {
        "UNCLEAR": ("tidak jelas",),
        "TOO_GENERAL": ("terlalu umum",),
        "NOT_PUBLIC_SERVICE": ("bukan pelayanan publik",),
        "SPAM": (),
        "DUPLICATE": ("duplikat", "ganda"),
    },
    ArchiveReason,
)


def field_map(node: str, table: Mapping[str, str]) -> Mapping[str, str]:
    """Checks a node table's field map: every required field mapped, nothing unknown."""
    unknown = sorted(set(table) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise NodeTableError(node, f"options.fields has unknown fields {unknown}")
    missing = [f for f in REQUIRED if f not in table]
    if missing:
        raise NodeTableError(node, f"options.fields does not map {', '.join(missing)}")
    for group in _TOGETHER:
        if any(f in table for f in group) and not all(f in table for f in group):
            raise NodeTableError(node, f"options.fields maps {', '.join(group)} together")
    return table


def _lookup(item: Item, path: str, words: Mapping[str, E], what: str) -> E:
    value = item.raw(path)
    key = str(value).strip().lower() if not isinstance(value, bool) else str(value).lower()
    if key not in words:
        raise item.fail(path, f"{value!r} is not a known {what}")
    return words[key]


def build_change(
    config: NodeConfig,
    item: Item,
    fields: Mapping[str, str],
    *,
    default_kind: ReportKind = ReportKind.COMPLAINT,
    marked: ReportState | None = None,
) -> ExternalChange:
    """Reads one record through ``fields``; raises MalformedPayload naming the field.

    ``marked`` is a canonical state the node carries for us (Open311's
    status notes); it wins over the vocabulary when the label agrees with it.
    """

    def has(name: str) -> bool:
        return name in fields and item.raw(fields[name]) is not None

    raw_state = item.text(fields["raw_state"])
    mapping = config.status
    agrees = mapping.agreeing(raw_state)
    state = marked if marked is not None and marked in agrees else mapping.to_canonical(raw_state)
    kind = _lookup(item, fields["kind"], _KINDS, "report kind") if has("kind") else default_kind
    sub_kind: ComplaintSubKind | None = None
    if kind is ReportKind.COMPLAINT and has("complaint_sub_kind"):
        sub_kind = _lookup(item, fields["complaint_sub_kind"], _SUB_KINDS, "complaint sub-kind")
    region = item.text(fields["region_code"]) if has("region_code") else config.region_code
    if region is None:
        raise item.fail(fields.get("region_code", "region_code"), "is missing")
    if region not in _REGIONS:
        raise item.fail(fields["region_code"], f"{region!r} is not a South Sumatra region code")
    category = item.opt_text(fields["category"]) if "category" in fields else None
    institution = item.opt_text(fields["institution"]) if "institution" in fields else None
    latitude = item.opt_number(fields["latitude"]) if "latitude" in fields else None
    longitude = item.opt_number(fields["longitude"]) if "longitude" in fields else None
    if (latitude is None) != (longitude is None):
        raise item.fail(fields.get("latitude", "latitude"), "latitude and longitude go together")

    def text(name: str) -> str | None:
        return item.opt_text(fields[name]) if name in fields else None

    reporter = ReporterIdentity(
        text("reporter_name"), text("reporter_nik"), text("reporter_phone"), text("reporter_email")
    )
    anonymous = item.flag(fields["anonymous"]) if "anonymous" in fields else False
    return ExternalChange(
        node=config.code,
        external_id=item.text(fields["external_id"]),
        external_version=item.text(fields["external_version"]),
        state=state,
        raw_state=raw_state,
        agrees_with=agrees,
        kind=kind,
        complaint_sub_kind=sub_kind,
        title=item.text(fields["title"]),
        content=item.text(fields["content"]),
        region_code=region,
        submitted_at=item.moment(fields["submitted_at"]),
        occurred_at=item.moment(fields["occurred_at"]),
        topic_id=config.topics.to_topic(category),
        raw_topic=category,
        institution_code=institution if institution in _INSTITUTIONS else None,
        channel=_lookup(item, fields["channel"], _CHANNELS, "channel")
        if has("channel")
        else Channel.INTEGRATED_APP,
        privacy=PrivacyFlags(
            anonymous, item.flag(fields["confidential"]) if "confidential" in fields else False
        ),
        note=text("note"),
        archive_reason=_lookup(item, fields["archive_reason"], _ARCHIVE, "archive reason")
        if has("archive_reason")
        else None,
        incident_date=item.opt_day(fields["incident_date"]) if "incident_date" in fields else None,
        location=text("location"),
        latitude=latitude,
        longitude=longitude,
        tags=item.texts(fields["tags"]) if "tags" in fields else (),
        attachments=item.texts(fields["attachments"]) if "attachments" in fields else (),
        # Anonim hides the identity from viewers, not from the verifying admins:
        # whatever identity the node gives travels on to the hub's reporter table.
        reporter=None if reporter == ReporterIdentity() else reporter,
        hub_report_id=text("hub_report_id"),
        replies=_replies(item, fields) if "replies" in fields else (),
        rating=_rating(item, fields),
    )


def _replies(item: Item, fields: Mapping[str, str]) -> tuple[PulledReply, ...]:
    where = f"{item.where}.{fields['replies']}"
    entries = as_list(item.node, where, item.raw(fields["replies"]) or [])
    replies = []
    for i, entry in enumerate(entries):
        reply = Item(item.node, f"{where}[{i}]", entry)
        replies.append(
            PulledReply(reply.text(fields["reply_id"]), reply.text(fields["reply_content"]))
        )
    return tuple(replies)


def _rating(item: Item, fields: Mapping[str, str]) -> PulledRating | None:
    if "rating_score" not in fields or item.raw(fields["rating_score"]) is None:
        return None
    score = item.integer(fields["rating_score"])
    if not 1 <= score <= 5:
        raise item.fail(fields["rating_score"], f"a rating is 1 to 5, got {score}")
    comment = item.opt_text(fields["rating_comment"]) if "rating_comment" in fields else None
    return PulledRating(score, comment)


def build_node_report(
    item: Item, fields: Mapping[str, str], events: frozenset[str] | None = None
) -> NodeReport:
    """Reads a looked-up report through the same field map as a pulled one."""

    def text(name: str) -> str | None:
        return item.opt_text(fields[name]) if name in fields else None

    return NodeReport(
        external_id=item.text(fields["external_id"]),
        raw_state=item.text(fields["raw_state"]),
        institution=text("institution"),
        note=text("note"),
        events=events,
    )


def event_ids(item: Item, path: str, field: str) -> frozenset[str]:
    """The hub event ids in the list at ``path`` of a looked-up report, each at ``field``."""
    where = f"{item.where}.{path}"
    entries = as_list(item.node, where, item.raw(path) or [])
    return frozenset(
        Item(item.node, f"{where}[{i}]", entry).text(field) for i, entry in enumerate(entries)
    )


def build_attachment(item: Item, fields: Mapping[str, str]) -> Attachment:
    """Reads one attachment through a map with ref, name, media_type, url and maybe size."""
    size = item.raw(fields["size"]) if "size" in fields else None
    return Attachment(
        ref=item.text(fields["ref"]),
        name=item.text(fields["name"]),
        media_type=item.text(fields["media_type"]),
        url=item.text(fields["url"]),
        size=item.integer(fields["size"]) if size is not None else None,
    )


def attachments_by_report(
    node: str, body: object, fields: Mapping[str, str], path: str = "data"
) -> dict[str, LiveRecord]:
    """Reads ``{<path>: {<external id>: [attachment, ...]}}``, the shape REST nodes use."""
    where = f"response.{path}"
    data = as_mapping(node, where, Item(node, "response", body).raw(path))
    records = {}
    for external_id, entries in data.items():
        inner = f"{where}.{external_id}"
        attachments = tuple(
            build_attachment(Item(node, f"{inner}[{i}]", entry), fields)
            for i, entry in enumerate(as_list(node, inner, entries))
        )
        records[external_id] = LiveRecord(external_id, attachments)
    return records
