"""Open311 GeoReport v2 (JSON) nodes.

Pull: ``GET /requests.json`` over date windows of at most 90 days (the spec's
limit) with the common ``page``/``page_size`` extension. The spec's
``start_date``/``end_date`` filter ``requested_datetime``, which cannot see
updates to older requests, so by default the connector uses the widespread
``updated_after``/``updated_before`` extension (option ``date_params``).

Open311 knows only ``open``/``closed``. Mapping rule: a non-terminal state is
``open``, COMPLETED/ARCHIVED are ``closed`` (the vocabulary table), the
canonical state rides in ``status_notes`` as ``[SP4N:<STATE>]``, and
``agency_responsible`` is the current institution. A marker is trusted only
while the status still agrees with it: once the node's staff close a request
themselves, the status wins.

Write-back: GeoReport v2 has no update method; we use the service-request
update extension (after FixMyStreet's ``servicerequestupdates``) and send the
event id as ``update_id`` so a repeated write is a no-op on the node. Creating
a report: ``POST /requests.json``, made idempotent with the
``attribute[sp4n_report_id]`` service attribute, which the node shows back in
``extended_attributes`` (as Chicago's ``extensions=true`` does).

GeoReport v2 has no word for the reporter's voice, so it rides in the same
``extended_attributes``: ``citizen_replies`` (a list of ``reply_id``,
``description`` and ``datetime``: the reporter's answers to follow-ups, no
identity) and ``citizen_rating`` (``score`` 1 to 5 and ``comment``), pulled as
replies and a rating (hub/ingest/voices.py).

A created request shows ``open`` at once, and its status note needs a second call,
so the node's staff may change it in between. That call goes only onto the request
as created (``updated_datetime`` still its ``requested_datetime``), with
``expected_updated_datetime`` for a node to refuse it (409 or 412) if the request
changed before the call lands; either way the staff's change stands and is pulled.

Reconciling a write-back whose outcome the hub did not record looks the request
up with the spec's ``GET /requests/{id}.json``, or, for one the hub created and
never linked, by the ``reference_param`` filter; ``updates_path`` lists the
updates the node holds for a request (their ``update_id`` is the event id).
"""

from __future__ import annotations

import logging
import mimetypes
import re
from collections.abc import AsyncIterator, Sequence
from datetime import datetime

from connectors.base import BaseConnector
from connectors.change import (
    Attachment,
    ChangePage,
    ExternalChange,
    FetchResult,
    LiveRecord,
    NodeReport,
    ReportContent,
)
from connectors.config import NodeConfig
from connectors.errors import NodeConflict, NodeNotFound, NodeTableError, NotSupported
from connectors.http import HttpNode
from connectors.options import Options
from connectors.paging import TimePaging
from connectors.payload import Item, as_list
from connectors.protocol import Dependencies
from connectors.records import build_change, build_node_report
from schema.events import ReportEvent
from schema.lifecycle import ReportState
from schema.report import ReportKind

_log = logging.getLogger(__name__)
_MARKER = re.compile(r"^\[SP4N:([A-Z_]+)\]")
_FIELDS = {
    "external_id": "service_request_id",
    "external_version": "updated_datetime",
    "raw_state": "status",
    "title": "_title",
    "content": "_content",
    "submitted_at": "requested_datetime",
    "occurred_at": "updated_datetime",
    "category": "service_code",
    "institution": "agency_responsible",
    "note": "status_notes",
    "location": "address",
    "latitude": "lat",
    "longitude": "long",
    "attachments": "_media",
    "hub_report_id": "extended_attributes.sp4n_report_id",
    "replies": "extended_attributes.citizen_replies",
    "reply_id": "reply_id",
    "reply_content": "description",
    "rating_score": "extended_attributes.citizen_rating.score",
    "rating_comment": "extended_attributes.citizen_rating.comment",
}
_DATE_PARAMS = {
    "updated": ("updated_after", "updated_before"),
    "requested": ("start_date", "end_date"),
}
_BATCH = 50
_DESCRIPTION_LIMIT = 4000  # the spec's limit on a request's description


def status_note(state: ReportState) -> str:
    """The status note carrying the canonical state, e.g. ``[SP4N:DISPOSED] Terdisposisi``."""
    return f"[SP4N:{state.value}] {state.label}"


class Open311Connector(BaseConnector):
    """A node speaking GeoReport v2."""

    http: HttpNode

    def __init__(self, config: NodeConfig, deps: Dependencies) -> None:
        super().__init__(config, deps)
        opts = Options(config.code, config.options)
        self.paging = TimePaging.read(opts, page_size_high=1000, windowed=True)
        self.date_params = _DATE_PARAMS[
            opts.choice("date_params", "updated", ("updated", "requested"))
        ]
        self.jurisdiction = opts.opt_text("jurisdiction_id")
        self.default_kind = ReportKind(
            opts.choice("default_kind", "COMPLAINT", tuple(k.value for k in ReportKind))
        )
        self.fallback_service = opts.opt_text("fallback_service_code")
        self.reference_param = opts.opt_text("reference_param")
        self.updates_path = opts.opt_text("updates_path")
        opts.finish()
        if config.credentials is None:
            raise NodeTableError(config.code, "credentials: Open311 needs an api_key")
        self.api_key = config.credentials.value
        self.http = self.http_node()

    async def ping(self) -> None:
        def services(body: object) -> None:
            as_list(self.node_code, "services", body)

        await self.http.read(
            "GET", "/services.json", what="GET services", params=self._params(), parse=services
        )

    def _params(self, **extra: str | int) -> dict[str, str | int]:
        params: dict[str, str | int] = dict(extra)
        if self.jurisdiction:
            params["jurisdiction_id"] = self.jurisdiction
        return params

    def pull(self, since: str | None) -> AsyncIterator[ChangePage]:
        return self.paging.pages(self._page, since)

    async def _page(self, lo: datetime, hi: datetime | None, page: int) -> list[ExternalChange]:
        after, before = self.date_params
        params = self._params(page=page, page_size=self.paging.page_size)
        params[after] = lo.isoformat()
        if hi is not None:
            params[before] = hi.isoformat()
        return await self.http.read(
            "GET", "/requests.json", what="GET requests", params=params, parse=self._changes
        )

    def _changes(self, body: object) -> list[ExternalChange]:
        items = as_list(self.node_code, "requests", body)
        return [self._change(i, raw) for i, raw in enumerate(items)]

    def _change(self, index: int, raw: object) -> ExternalChange:
        item = Item(self.node_code, f"requests[{index}]", raw)
        service = item.text("service_name")
        address = item.opt_text("address")
        notes = item.opt_text("status_notes") or ""
        marker = _MARKER.match(notes)
        media = item.opt_text("media_url")
        enriched = {
            **item.data,
            # Open311 has no title; the service and the place make a readable one.
            "_title": f"{service} di {address}" if address else service,
            "_content": item.opt_text("description") or service,
            "_media": [media] if media else [],
        }
        marked = None
        if marker and marker.group(1) in ReportState.__members__:
            marked = ReportState(marker.group(1))
        return build_change(
            self.config,
            Item(self.node_code, item.where, enriched),
            _FIELDS,
            default_kind=self.default_kind,
            marked=marked,
        )

    async def write_state(self, external_id: str, event: ReportEvent) -> None:
        await self._update(external_id, event)

    async def write_created(self, external_id: str, event: ReportEvent) -> None:
        # The request shows "open" from its creation, before the status note lands;
        # its staff may act on it in between. The note goes only onto the request as
        # the hub created it, on the condition that it is still so when the call lands
        # (``expected_updated_datetime``): otherwise their change stands and is pulled.
        version = await self.http.read(
            "GET", f"/requests/{external_id}.json", what="GET created request",
            params=self._params(), parse=self._untouched,
        )  # fmt: skip
        if version is None:
            _log.info(
                "node %s: request %s changed at the node before the hub's status note; left "
                "as the node's staff set it", self.node_code, external_id,
            )  # fmt: skip
            return
        try:
            await self._update(external_id, event, expected=version)
        except NodeConflict:
            _log.info(
                "node %s: request %s changed at the node while the hub wrote its status "
                "note; left as the node's staff set it", self.node_code, external_id,
            )  # fmt: skip

    def _untouched(self, body: object) -> str | None:
        """The version (``updated_datetime``) of a request nobody changed since it was
        filed; None when it was changed."""
        answer = as_list(self.node_code, "requests", body)
        item = Item(self.node_code, "requests[0]", answer[0] if answer else None)
        updated = item.opt_text("updated_datetime")
        if updated is None:
            return ""
        return updated if updated == item.opt_text("requested_datetime") else None

    async def _update(
        self, external_id: str, event: ReportEvent, *, expected: str | None = None
    ) -> None:
        form = {
            "api_key": self.api_key,
            "service_request_id": external_id,
            "update_id": event.event_id,
            "status": self.config.status.to_external(event.state),
            "description": status_note(event.state),
            "updated_datetime": event.occurred_at.isoformat(),
        }
        if event.institution_codes:
            form["agency_responsible"] = event.institution_codes[-1]
        if expected:
            form["expected_updated_datetime"] = expected
        await self.http.call(
            "POST",
            "/servicerequestupdates.json",
            what="POST update",
            form={**form, **self._form_extra()},
        )

    def _form_extra(self) -> dict[str, str]:
        return {"jurisdiction_id": self.jurisdiction} if self.jurisdiction else {}

    async def create(self, content: ReportContent, event: ReportEvent) -> str:
        service = self.category_for(content.topic_id) or self.fallback_service
        if service is None:
            raise NotSupported(self.node_code, f"no Open311 service for topic {content.topic_id}")
        description = f"{content.title}\n\n{content.content}"[:_DESCRIPTION_LIMIT]
        form = {
            "api_key": self.api_key,
            "service_code": service,
            "description": description,
            "attribute[sp4n_report_id]": content.report_id,
            **self._form_extra(),
        }
        if content.latitude is not None and content.longitude is not None:
            form |= {"lat": str(content.latitude), "long": str(content.longitude)}
        else:
            form["address_string"] = content.location or self.config.name
        return await self.http.read(
            "POST", "/requests.json", what="POST request", form=form, parse=self._created_id
        )

    def _created_id(self, body: object) -> str:
        answer = as_list(self.node_code, "requests", body)
        created = Item(self.node_code, "requests[0]", answer[0] if answer else None)
        if created.raw("service_request_id") is None and created.raw("token") is not None:
            raise NotSupported(
                self.node_code, "the service answers with a token (batch), not an id"
            )
        return created.text("service_request_id")

    async def find(self, event: ReportEvent, external_id: str | None) -> NodeReport | None:
        if external_id is not None:
            try:
                found = await self.http.read(
                    "GET", f"/requests/{external_id}.json", what="GET request",
                    params=self._params(), parse=self._first,
                )  # fmt: skip
            except NodeNotFound:
                return None
        elif self.reference_param is not None:
            params = self._params(**{self.reference_param: event.report_id})
            found = await self.http.read(
                "GET", "/requests.json", what="GET request by hub id", params=params,
                parse=self._first,
            )  # fmt: skip
        else:
            raise NotSupported(self.node_code, "options.reference_param is not configured")
        if found is None or self.updates_path is None:
            return found
        params = self._params(service_request_id=found.external_id)
        updates = await self.http.read(
            "GET", self.updates_path, what="GET updates", params=params, parse=self._update_ids
        )
        return NodeReport(
            found.external_id, found.raw_state, found.institution, found.note, updates
        )

    def _first(self, body: object) -> NodeReport | None:
        answer = as_list(self.node_code, "requests", body)
        if not answer:
            return None
        return build_node_report(Item(self.node_code, "requests[0]", answer[0]), _FIELDS)

    def _update_ids(self, body: object) -> frozenset[str]:
        updates = as_list(self.node_code, "updates", body)
        return frozenset(
            Item(self.node_code, f"updates[{i}]", raw).text("update_id")
            for i, raw in enumerate(updates)
        )

    def shows(self, found: NodeReport, event: ReportEvent) -> bool:
        # open/closed alone says little: the status note carries the canonical state.
        if found.events is None and not (found.note or "").startswith(
            f"[SP4N:{event.state.value}]"
        ):
            return False
        return super().shows(found, event)

    async def fetch(self, refs: Sequence[str]) -> FetchResult:
        records: dict[str, LiveRecord] = {}
        for start in range(0, len(refs), _BATCH):
            chunk = refs[start : start + _BATCH]
            records |= await self.http.read(
                "GET",
                "/requests.json",
                what="GET requests by id",
                params=self._params(service_request_id=",".join(chunk)),
                parse=self._live_records,
            )
        return FetchResult(records, frozenset(refs) - set(records))

    def _live_records(self, body: object) -> dict[str, LiveRecord]:
        items = as_list(self.node_code, "requests", body)
        live = (_live(Item(self.node_code, f"requests[{i}]", raw)) for i, raw in enumerate(items))
        return {record.external_id: record for record in live}


def _live(item: Item) -> LiveRecord:
    media = item.opt_text("media_url")
    attachments: tuple[Attachment, ...] = ()
    if media:
        name = media.rsplit("/", 1)[-1] or "lampiran"
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        attachments = (Attachment(media, name, kind, media),)
    return LiveRecord(item.text("service_request_id"), attachments)
