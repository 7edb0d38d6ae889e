"""The national SP4N-LAPOR! node.

Its current API is closed, so the contract is ours, modelled on the old public
LAPOR! API and written down in ``connectors/LAPOR.md``: opaque tracking ids
(``"1916449"``, never parsed), hierarchical categories, the ``anonim`` and
``rahasia`` flags, and the LAPOR! status labels. Pull walks update-time
windows with keyset paging; write-back posts a ``tindakan`` keyed on the event
id (``id_kejadian``), so a repeated write is a no-op, and a creation is keyed
on the hub's report id (``id_eksternal``) and carries the event's status as its
first ``tindakan`` (so none follows it, and a change LAPOR!'s admins make to the
new report stands). Reconciling looks a report up by its
tracking id or by ``id_eksternal``; its ``tindak_lanjut`` name the event ids the
node applied.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime

from connectors.base import BaseConnector, state_note
from connectors.change import (
    ChangePage,
    ExternalChange,
    FetchResult,
    LiveRecord,
    NodeReport,
    ReportContent,
)
from connectors.config import NodeConfig
from connectors.errors import NodeNotFound, NodeTableError
from connectors.http import HttpNode
from connectors.options import Options
from connectors.paging import TimePaging
from connectors.payload import Item, as_list
from connectors.protocol import Dependencies
from connectors.records import attachments_by_report, build_change, build_node_report, event_ids
from schema.events import ReportEvent
from schema.report import ReportKind

API = "/api/v1"
FIELDS = {
    "external_id": "tracking_id",
    "external_version": "versi",
    "raw_state": "status",
    "title": "judul",
    "content": "isi",
    "kind": "jenis",
    "complaint_sub_kind": "berkadar_pengawasan",
    "region_code": "kode_wilayah",
    "category": "kategori.id",
    "institution": "instansi_tujuan.kode",
    "channel": "sumber",
    "anonymous": "anonim",
    "confidential": "rahasia",
    "note": "tindak_lanjut_terakhir",
    "archive_reason": "alasan_arsip",
    "incident_date": "tanggal_kejadian",
    "location": "lokasi.alamat",
    "latitude": "lokasi.lat",
    "longitude": "lokasi.lng",
    "tags": "tagar",
    "attachments": "lampiran",
    "submitted_at": "dibuat_pada",
    "occurred_at": "diperbarui_pada",
    "reporter_name": "pelapor.nama",
    "hub_report_id": "id_eksternal",
    "replies": "balasan_pelapor",
    "reply_id": "id",
    "reply_content": "isi",
    "rating_score": "penilaian.nilai",
    "rating_comment": "penilaian.komentar",
}
KIND_WORDS = {
    ReportKind.COMPLAINT: "pengaduan",
    ReportKind.ASPIRATION: "aspirasi",
    ReportKind.INFORMATION_REQUEST: "permintaan_informasi",
}
ATTACHMENT_FIELDS = {
    "ref": "id", "name": "nama_berkas", "media_type": "jenis", "url": "url", "size": "ukuran",
}  # fmt: skip
_BATCH = 100


class LaporConnector(BaseConnector):
    """The national SP4N-LAPOR! system, through the contract in LAPOR.md."""

    http: HttpNode
    creates_with_state = True

    def __init__(self, config: NodeConfig, deps: Dependencies) -> None:
        super().__init__(config, deps)
        o = Options(config.code, config.options)
        self.paging = TimePaging.read(o, page_size_high=500, windowed=True)
        self.province = o.text("province_code", "16")
        o.finish()
        if config.credentials is None:
            raise NodeTableError(config.code, "credentials: LAPOR! needs an API token")
        self.http = self.http_node()

    async def ping(self) -> None:
        await self.http.call("GET", f"{API}/status", what="GET status")

    def pull(self, since: str | None) -> AsyncIterator[ChangePage]:
        return self.paging.pages(self._page, since)

    async def _page(self, lo: datetime, hi: datetime | None, page: int) -> list[ExternalChange]:
        params: dict[str, str | int] = {
            "kode_provinsi": self.province,
            "diperbarui_sejak": lo.isoformat(),
            "halaman": page,
            "per_halaman": self.paging.page_size,
        }
        if hi is not None:
            params["diperbarui_sampai"] = hi.isoformat()
        return await self.http.read(
            "GET", f"{API}/laporan", what="GET laporan", params=params, parse=self._changes
        )

    def _changes(self, body: object) -> list[ExternalChange]:
        data = Item(self.node_code, "response", body).raw("data")
        return [
            build_change(self.config, Item(self.node_code, f"response.data[{i}]", raw), FIELDS)
            for i, raw in enumerate(as_list(self.node_code, "response.data", data))
        ]

    async def write_state(self, external_id: str, event: ReportEvent) -> None:
        body: dict[str, object] = {
            "status": self.config.status.to_external(event.state),
            "catatan": state_note(event),
            "id_kejadian": event.event_id,
            "versi_hub": event.version,
        }
        if event.institution_codes:
            body["instansi"] = event.institution_codes[-1]
        await self.http.call(
            "POST", f"{API}/laporan/{external_id}/tindakan", what="POST tindakan", json_body=body
        )

    async def create(self, content: ReportContent, event: ReportEvent) -> str:
        body = {
            "id_eksternal": content.report_id,
            "judul": content.title,
            "isi": content.content,
            "jenis": KIND_WORDS[content.kind],
            "kategori_id": self.category_for(content.topic_id),
            "kode_wilayah": content.region_code,
            "instansi": content.institution_code,
            "anonim": content.privacy.anonymous,
            "rahasia": content.privacy.confidential,
            "lokasi": content.location,
            "sumber": "aplikasi_terintegrasi",
            "status": self.config.status.to_external(event.state),
            "catatan": state_note(event),
            "id_kejadian": event.event_id,
            "versi_hub": event.version,
        }
        return await self.http.read(
            "POST", f"{API}/laporan", what="POST laporan", json_body=body,
            parse=lambda answer: Item(self.node_code, "response", answer).text("data.tracking_id"),
        )  # fmt: skip

    async def find(self, event: ReportEvent, external_id: str | None) -> NodeReport | None:
        if external_id is not None:
            try:
                return await self.http.read(
                    "GET", f"{API}/laporan/{external_id}", what="GET laporan by id",
                    parse=self._one,
                )  # fmt: skip
            except NodeNotFound:
                return None
        return await self.http.read(
            "GET", f"{API}/laporan", what="GET laporan by id_eksternal",
            params={"id_eksternal": event.report_id}, parse=self._first,
        )  # fmt: skip

    def _one(self, body: object) -> NodeReport:
        data = Item(self.node_code, "response", body).raw("data")
        return self._node_report(Item(self.node_code, "response.data", data))

    def _first(self, body: object) -> NodeReport | None:
        data = as_list(
            self.node_code, "response.data", Item(self.node_code, "response", body).raw("data")
        )
        if not data:
            return None
        return self._node_report(Item(self.node_code, "response.data[0]", data[0]))

    def _node_report(self, item: Item) -> NodeReport:
        return build_node_report(item, FIELDS, event_ids(item, "tindak_lanjut", "id_kejadian"))

    async def fetch(self, refs: Sequence[str]) -> FetchResult:
        records: dict[str, LiveRecord] = {}
        for start in range(0, len(refs), _BATCH):
            chunk = refs[start : start + _BATCH]
            records |= await self.http.read(
                "GET",
                f"{API}/lampiran",
                what="GET lampiran",
                params={"tracking_id": ",".join(chunk)},
                parse=lambda body: attachments_by_report(self.node_code, body, ATTACHMENT_FIELDS),
            )
        return FetchResult(records, frozenset(refs) - set(records))
