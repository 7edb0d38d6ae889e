"""JSON/REST nodes (regency CRMs), described declaratively in the node table.

Everything specific to one CRM is data: the paths, the field map
(``options.fields``: canonical field -> dotted path), and the pagination,
either ``cursor`` (the watermark is the node's own opaque cursor) or ``page``
(the watermark is an update time, walked with keyset paging, see paging.py).
Write-back sends the event id and hub version with the status, so the node
can ignore a write it has already applied, and an ``Idempotency-Key`` header
(the event id; for a creation ``creation_key``), which a node that honours it
answers with its first answer. A creation carries the event's status, note, event
id and version (``create_fields`` ``status``, ``note``, ``event_id``, ``version``),
so no status write follows it and a change the node's staff make to the new report
stands; a table whose ``create_fields`` leave out ``status`` or ``event_id`` gets
the status written by a second call. A node may offer lookups for reconciling a
write-back whose outcome the hub did not record: ``lookup_path`` (one report by
its id), ``find_param`` (a ``changes_path`` filter on the hub's reference) and
``events_path`` (the event ids the node applied, in a looked-up report).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime

from connectors.base import BaseConnector, creation_key, state_note
from connectors.change import (
    ChangePage,
    ExternalChange,
    FetchResult,
    LiveRecord,
    NodeReport,
    ReportContent,
)
from connectors.config import NodeConfig
from connectors.errors import MalformedPayload, NodeNotFound, NotSupported
from connectors.http import HttpNode
from connectors.options import Options
from connectors.paging import TimePaging
from connectors.payload import Item, as_list
from connectors.protocol import Dependencies
from connectors.records import (
    attachments_by_report,
    build_change,
    build_node_report,
    event_ids,
    field_map,
)
from schema.events import ReportEvent

_CREATE_FIELDS = {
    "report_id": "id_eksternal", "title": "judul", "content": "isi", "kind": "jenis",
    "category": "kategori", "region_code": "wilayah", "institution_code": "instansi",
    "anonymous": "anonim", "confidential": "rahasia", "location": "lokasi",
    "latitude": "lat", "longitude": "lng",
    "status": "status", "note": "catatan", "event_id": "id_peristiwa", "version": "versi_hub",
}  # fmt: skip
_ATTACHMENT_FIELDS = {
    "ref": "id",
    "name": "nama",
    "media_type": "jenis",
    "url": "url",
    "size": "ukuran",
}
_BATCH = 100


class RestConnector(BaseConnector):
    """A node with a JSON API and a declarative mapping."""

    http: HttpNode

    def __init__(self, config: NodeConfig, deps: Dependencies) -> None:
        super().__init__(config, deps)
        o = Options(config.code, config.options)
        self.fields = field_map(config.code, o.table("fields"))
        self.changes_path = o.text("changes_path", "/aduan")
        self.items_path = o.text("items_path", "data")
        self.pagination = o.choice("pagination", "cursor", ("cursor", "page"))
        self.paging = TimePaging.read(o, page_size_high=1000, windowed=False)
        self.page_size = self.paging.page_size
        self.limit_param = o.text("limit_param", "limit")
        self.cursor_param = o.text("cursor_param", "cursor")
        self.next_cursor_path = o.text("next_cursor_path", "next_cursor")
        self.since_param = o.text("since_param", "updated_since")
        self.page_param = o.text("page_param", "page")
        self.status_path = o.text("status_path", "/aduan/{id}/status")
        self.status_method = o.choice("status_method", "PUT", ("PUT", "POST", "PATCH"))
        self.body_fields = {
            k: o.text(f"{k}_field", default)
            for k, default in (
                ("status", "status"), ("note", "catatan"), ("event", "id_peristiwa"),
                ("version", "versi_hub"), ("institution", "instansi"),
            )
        }  # fmt: skip
        self.create_path = o.opt_text("create_path")
        self.create_fields = o.table("create_fields", _CREATE_FIELDS)
        self.creates_with_state = {"status", "event_id"} <= self.create_fields.keys()
        self.created_id_path = o.text("created_id_path", "data.id")
        self.attachments_path = o.opt_text("attachments_path")
        self.attachments_param = o.text("attachments_param", "ids")
        self.attachment_fields = o.table("attachment_fields", _ATTACHMENT_FIELDS)
        self.ping_path = o.text("ping_path", "/status")
        self.lookup_path = o.opt_text("lookup_path")
        self.lookup_item_path = o.text("lookup_item_path", "data")
        self.find_param = o.opt_text("find_param")
        self.events_path = o.opt_text("events_path")
        self.key_header = o.text("idempotency_header", "Idempotency-Key")
        header = o.text("auth_header", "Authorization")
        scheme = o.text("auth_scheme", "Bearer")
        o.finish()
        self.http = self.http_node(auth_header=header, auth_scheme=scheme)

    async def ping(self) -> None:
        await self.http.call("GET", self.ping_path, what="ping")

    async def pull(self, since: str | None) -> AsyncIterator[ChangePage]:
        if self.pagination == "page":
            async for page in self.paging.pages(self._time_page, since):
                yield page
            return
        cursor = since
        while True:
            params: dict[str, str | int] = {self.limit_param: self.page_size}
            if cursor is not None:
                params[self.cursor_param] = cursor
            changes, following = await self.http.read(
                "GET", self.changes_path, what="GET changes", params=params, parse=self._cursor_page
            )
            if changes:
                yield ChangePage(changes, following or "")
            if len(changes) < self.page_size or following == cursor:
                return
            cursor = following

    def _cursor_page(self, body: object) -> tuple[tuple[ExternalChange, ...], str | None]:
        changes = self._changes(body)
        following = Item(self.node_code, "response", body).opt_text(self.next_cursor_path)
        if changes and following is None:
            raise MalformedPayload(
                self.node_code, f"response.{self.next_cursor_path}", "is missing"
            )
        return changes, following

    async def _time_page(
        self, lo: datetime, _hi: datetime | None, page: int
    ) -> tuple[ExternalChange, ...]:
        params: dict[str, str | int] = {self.since_param: lo.isoformat(), self.page_param: page}
        params[self.limit_param] = self.page_size
        return await self.http.read(
            "GET", self.changes_path, what="GET changes", params=params, parse=self._changes
        )

    def _changes(self, body: object) -> tuple[ExternalChange, ...]:
        items = Item(self.node_code, "response", body).raw(self.items_path)
        where = f"response.{self.items_path}"
        return tuple(
            build_change(self.config, Item(self.node_code, f"{where}[{i}]", raw), self.fields)
            for i, raw in enumerate(as_list(self.node_code, where, items))
        )

    async def write_state(self, external_id: str, event: ReportEvent) -> None:
        f = self.body_fields
        body: dict[str, object] = {
            f["status"]: self.config.status.to_external(event.state),
            f["note"]: state_note(event),
            f["event"]: event.event_id,
            f["version"]: event.version,
        }
        if event.institution_codes:
            body[f["institution"]] = event.institution_codes[-1]
        path = self.status_path.replace("{id}", external_id)
        await self.http.call(
            self.status_method, path, what="write status", json_body=body,
            headers={self.key_header: event.event_id},
        )  # fmt: skip

    async def create(self, content: ReportContent, event: ReportEvent) -> str:
        if self.create_path is None:
            return await super().create(content, event)
        values: Mapping[str, object] = {
            "report_id": content.report_id, "title": content.title, "content": content.content,
            "kind": content.kind.value, "category": self.category_for(content.topic_id),
            "region_code": content.region_code, "institution_code": content.institution_code,
            "anonymous": content.privacy.anonymous, "confidential": content.privacy.confidential,
            "location": content.location, "latitude": content.latitude,
            "longitude": content.longitude,
            "status": self.config.status.to_external(event.state), "note": state_note(event),
            "event_id": event.event_id, "version": event.version,
        }  # fmt: skip
        body = {key: values[name] for name, key in self.create_fields.items() if name in values}
        id_path = self.created_id_path
        return await self.http.read(
            "POST", self.create_path, what="create report", json_body=body,
            headers={self.key_header: creation_key(content.report_id)},
            parse=lambda answer: Item(self.node_code, "response", answer).text(id_path),
        )  # fmt: skip

    async def find(self, event: ReportEvent, external_id: str | None) -> NodeReport | None:
        if external_id is not None and self.lookup_path is not None:
            path = self.lookup_path.replace("{id}", external_id)
            try:
                return await self.http.read("GET", path, what="GET report", parse=self._looked_up)
            except NodeNotFound:
                return None
        if external_id is None and self.find_param is not None:
            return await self.http.read(
                "GET", self.changes_path, what="GET report by hub id",
                params={self.find_param: event.report_id}, parse=self._found,
            )  # fmt: skip
        raise NotSupported(self.node_code, "no lookup configured for this report")

    def _looked_up(self, body: object) -> NodeReport:
        item = Item(self.node_code, "response", body)
        where = f"response.{self.lookup_item_path}"
        return self._node_report(Item(self.node_code, where, item.raw(self.lookup_item_path)))

    def _found(self, body: object) -> NodeReport | None:
        where = f"response.{self.items_path}"
        found = Item(self.node_code, "response", body).raw(self.items_path)
        items = as_list(self.node_code, where, found)
        if not items:
            return None
        return self._node_report(Item(self.node_code, f"{where}[0]", items[0]))

    def _node_report(self, item: Item) -> NodeReport:
        events = None
        if self.events_path is not None:
            events = event_ids(item, self.events_path, self.body_fields["event"])
        return build_node_report(item, self.fields, events)

    async def fetch(self, refs: Sequence[str]) -> FetchResult:
        if self.attachments_path is None:
            return FetchResult({}, frozenset(refs))
        records: dict[str, LiveRecord] = {}
        a = self.attachment_fields
        for start in range(0, len(refs), _BATCH):
            chunk = refs[start : start + _BATCH]
            records |= await self.http.read(
                "GET", self.attachments_path, what="GET attachments",
                params={self.attachments_param: ",".join(chunk)},
                parse=lambda body: attachments_by_report(self.node_code, body, a),
            )  # fmt: skip
        return FetchResult(records, frozenset(refs) - set(records))
