"""A sandbox regency CRM with a JSON API, statuses Menunggu / Koordinasi /
Disposisi / Proses / Selesai, cursor paging (by change number) and page paging
(by update time). A creation may come with its first status (``status``,
``catatan``, ``id_peristiwa``), applied with it. Writes honour ``Idempotency-Key``;
``GET /aduan/{id}`` and ``GET /aduan?id_eksternal=`` show a report with its
``riwayat`` (the hub's writes)."""

from __future__ import annotations

import random

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.sandbox.common import (
    TOPIC_NAMES,
    Backend,
    int_param,
    iso,
    json_body,
    keyed,
    kind_of,
    ok,
    parse_time,
)
from connectors.sandbox.data import CATALOGUE, new_report
from connectors.sandbox.faults import corrupt
from connectors.sandbox.store import NodeSystem, SandboxReport, SandboxUpdate, UnknownLabel

KINDS = {"COMPLAINT": "Pengaduan", "ASPIRATION": "Aspirasi", "INFORMATION_REQUEST": "Informasi"}
CHANNELS = {
    "WEB": "website", "MOBILE_APP": "aplikasi", "SMS_1708": "sms", "TWITTER": "twitter",
    "FACE_TO_FACE": "tatap_muka", "INTEGRATED_APP": "integrasi",
}  # fmt: skip
_CRM_TOPICS = {t.crm: t.topic_id for t in CATALOGUE}


def render(r: SandboxReport) -> dict[str, object]:
    return {
        "id": int(r.id),
        "versi": r.version,
        "judul": r.title,
        "isi": r.content,
        "jenis": KINDS[r.kind],
        "status": {"kode": r.status.upper(), "nama": r.status},
        "kategori": {"kode": r.category, "nama": TOPIC_NAMES[r.topic_id]},
        "instansi": r.institution,
        "wilayah": {"kode": r.region},
        "kanal": CHANNELS[r.channel],
        "anonim": int(r.anonymous),
        "rahasia": r.confidential,
        "lokasi": {"alamat": r.location, "lat": r.lat, "lng": r.lon},
        "pelapor": {"nama": r.reporter_name} if r.reporter_name else None,
        "tanggapan": r.note,
        "lampiran": [a.id for a in r.attachments],
        "tanggal_kejadian": r.incident_date.isoformat() if r.incident_date else None,
        "dibuat": iso(r.created_at),
        "diperbarui": iso(r.updated_at),
        "id_eksternal": r.hub_id,
        "balasan": [{"id": b.id, "isi": b.content, "dibuat": iso(b.at)} for b in r.replies],
        "rating": {"skor": r.rating[0], "komentar": r.rating[1]} if r.rating else None,
    }


def render_detail(r: SandboxReport) -> dict[str, object]:
    """A report looked up on its own: with the history of the hub's writes."""
    riwayat = [
        {"id_peristiwa": u.event_id, "status": u.status, "catatan": u.note, "dicatat": iso(u.at)}
        for u in r.updates
    ]
    return {**render(r), "riwayat": riwayat}


def _first_write(body: dict[str, object], system: NodeSystem) -> SandboxUpdate | None:
    """The status a creation comes with (``status`` with ``id_peristiwa``), if any."""
    label, event = body.get("status"), body.get("id_peristiwa")
    if label is None and event is None:
        return None
    if not isinstance(label, str) or not isinstance(event, str):
        raise HTTPException(422, "status and id_peristiwa go together, as strings")
    institution = body.get("instansi")
    return SandboxUpdate(
        event, label, str(body.get("catatan") or ""),
        institution if isinstance(institution, str) else None, system.stamp(),
    )  # fmt: skip


def build_app(backend: Backend) -> Starlette:
    async def status(request: Request) -> Response:
        await backend.enter(request)
        return ok({"status": "ok"})

    async def changes(request: Request) -> Response:
        system = await backend.enter(request)
        q = request.query_params
        if "id_eksternal" in q:
            hub_id = q["id_eksternal"]
            made = [render_detail(r) for r in system.by_seq() if r.hub_id == hub_id]
            return ok({"data": made, "next_cursor": None, "meta": {}})
        limit = int_param(request, "limit", 50, 500)
        since = parse_time(q.get("updated_since"), "updated_since")
        if since is not None:
            page = int_param(request, "page", 1, 1_000_000)
            found = system.updated_since(since)[(page - 1) * limit : page * limit]
            following = None
        else:
            cursor = q.get("cursor", "0")
            if not cursor.isdigit():
                raise HTTPException(400, "cursor is not one this CRM gave out")
            found = system.after_seq(int(cursor), limit)
            following = str(found[-1].seq) if found else cursor
        body = [render(r) for r in found]
        if backend.faults.malformed(system.code):
            corrupt(body, ("diperbarui",))
        return ok({"data": body, "next_cursor": following, "meta": {"limit": limit}})

    async def one(request: Request) -> Response:
        system = await backend.enter(request)
        report = system.reports.get(request.path_params["id"])
        if report is None:
            raise HTTPException(404, "aduan tidak ditemukan")
        return ok({"data": render_detail(report)})

    async def write(request: Request) -> Response:
        system = await backend.enter(request)
        return await keyed(request, system, lambda: _write(request, system))

    async def _write(request: Request, system: NodeSystem) -> Response:
        body = await json_body(request)
        label, event = body.get("status"), body.get("id_peristiwa")
        if not isinstance(label, str) or not isinstance(event, str):
            raise HTTPException(422, "status and id_peristiwa are required strings")
        institution = body.get("instansi")
        try:
            report = system.write(
                request.path_params["id"], label, str(body.get("catatan") or ""), event,
                institution if isinstance(institution, str) else None,
            )  # fmt: skip
        except KeyError:
            raise HTTPException(404, "aduan tidak ditemukan") from None
        except UnknownLabel as error:
            raise HTTPException(422, str(error)) from None
        return ok({"data": render(report)})

    async def create(request: Request) -> Response:
        system = await backend.enter(request)
        return await keyed(request, system, lambda: _create(request, system))

    async def _create(request: Request, system: NodeSystem) -> Response:
        body = await json_body(request)
        hub_id, title, content = body.get("id_eksternal"), body.get("judul"), body.get("isi")
        if not all(isinstance(v, str) and v for v in (hub_id, title, content)):
            raise HTTPException(422, "id_eksternal, judul and isi are required")
        category = str(body.get("kategori") or "")

        def make(report_id: str) -> SandboxReport:
            report = new_report(
                random.Random(report_id), system.code, "rest", system.vocabulary, report_id,
                str(body.get("wilayah") or system.code), created=system.stamp(),
            )  # fmt: skip
            report.title, report.content = str(title), str(content)
            report.kind = kind_of(body.get("jenis"), report.kind)
            if category in _CRM_TOPICS:
                report.category, report.topic_id = category, _CRM_TOPICS[category]
            report.anonymous = bool(body.get("anonim"))
            report.confidential = bool(body.get("rahasia"))
            report.reporter_name = None
            report.attachments = []
            return report

        try:
            report = system.create(str(hub_id), make, _first_write(body, system))
        except UnknownLabel as error:
            raise HTTPException(422, str(error)) from None
        return ok({"data": {"id": report.id}}, 201)

    async def attachments(request: Request) -> Response:
        system = await backend.enter(request)
        wanted = [i for i in request.query_params.get("ids", "").split(",") if i]
        data = {
            i: [
                {"id": a.id, "nama": a.name, "jenis": a.media_type, "url": a.url, "ukuran": a.size}
                for a in system.reports[i].attachments
            ]
            for i in wanted
            if i in system.reports
        }
        return ok({"data": data})

    return Starlette(
        routes=[
            Route("/{node}/status", status),
            Route("/{node}/aduan", changes, methods=["GET"]),
            Route("/{node}/aduan", create, methods=["POST"]),
            Route("/{node}/aduan/lampiran", attachments),
            Route("/{node}/aduan/{id}", one, methods=["GET"]),
            Route("/{node}/aduan/{id}/status", write, methods=["PUT"]),
        ]
    )
