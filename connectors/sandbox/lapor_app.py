"""A sandbox SP4N-LAPOR! national API, following the contract in connectors/LAPOR.md."""

from __future__ import annotations

import random

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.sandbox.common import (
    INSTITUTION_NAMES,
    TOPIC_NAMES,
    TOPIC_PARENTS,
    Backend,
    int_param,
    iso,
    json_body,
    kind_of,
    ok,
    parse_time,
)
from connectors.sandbox.data import new_report
from connectors.sandbox.faults import corrupt
from connectors.sandbox.store import SandboxReport, SandboxUpdate, UnknownLabel

KINDS = {
    "COMPLAINT": "pengaduan", "ASPIRATION": "aspirasi",
    "INFORMATION_REQUEST": "permintaan_informasi",
}  # fmt: skip
SOURCES = {
    "WEB": "website", "MOBILE_APP": "android", "SMS_1708": "sms", "TWITTER": "twitter",
    "FACE_TO_FACE": "tatap_muka", "INTEGRATED_APP": "aplikasi_terintegrasi",
}  # fmt: skip
API = "/{node}/api/v1"


def _category(topic_id: int) -> dict[str, object]:
    parent = TOPIC_PARENTS[topic_id]
    return {
        "id": topic_id,
        "nama": TOPIC_NAMES[topic_id],
        "induk": _category(parent) if parent is not None else None,
    }


def render(r: SandboxReport) -> dict[str, object]:
    return {
        "tracking_id": r.id,
        "versi": r.version,
        "judul": r.title,
        "isi": r.content,
        "jenis": KINDS[r.kind],
        "berkadar_pengawasan": r.supervisory,
        "status": r.status,
        "kategori": _category(r.topic_id),
        "kode_wilayah": r.region,
        "instansi_tujuan": {"kode": r.institution, "nama": INSTITUTION_NAMES.get(r.institution)},
        "sumber": SOURCES[r.channel],
        "anonim": r.anonymous,
        "rahasia": r.confidential,
        "tindak_lanjut_terakhir": r.note,
        "alasan_arsip": r.archive_reason,
        "tanggal_kejadian": r.incident_date.isoformat() if r.incident_date else None,
        "lokasi": {"alamat": r.location, "lat": r.lat, "lng": r.lon},
        "tagar": r.tags,
        "lampiran": [a.id for a in r.attachments],
        # Identity is never served for an anonymous report, even to an integration.
        "pelapor": None if r.anonymous or not r.reporter_name else {"nama": r.reporter_name},
        "dibuat_pada": iso(r.created_at),
        "diperbarui_pada": iso(r.updated_at),
        "id_eksternal": r.hub_id,
        # The reporter's replies and rating, without who gave them.
        "balasan_pelapor": [{"id": b.id, "isi": b.content, "dibuat_pada": iso(b.at)}
                            for b in r.replies],
        "penilaian": {"nilai": r.rating[0], "komentar": r.rating[1]} if r.rating else None,
    }  # fmt: skip


def render_detail(r: SandboxReport) -> dict[str, object]:
    """A report looked up on its own: with the follow-ups (tindakan) the hub posted."""
    tindak_lanjut = [
        {"id_kejadian": u.event_id, "status": u.status, "catatan": u.note,
         "instansi": u.institution, "dicatat_pada": iso(u.at)}
        for u in r.updates
    ]  # fmt: skip
    return {**render(r), "tindak_lanjut": tindak_lanjut}


def build_app(backend: Backend) -> Starlette:
    async def status(request: Request) -> Response:
        await backend.enter(request)
        return ok({"status": "ok", "data": {"versi_api": "1"}})

    async def laporan(request: Request) -> Response:
        system = await backend.enter(request)
        q = request.query_params
        if "id_eksternal" in q:
            hub_id = q["id_eksternal"]
            made = [render_detail(r) for r in system.by_seq() if r.hub_id == hub_id]
            return ok({"status": "ok", "data": made, "meta": {"total": len(made)}})
        lo = parse_time(q.get("diperbarui_sejak"), "diperbarui_sejak")
        hi = parse_time(q.get("diperbarui_sampai"), "diperbarui_sampai")
        per_page = int_param(request, "per_halaman", 50, 500)
        page = int_param(request, "halaman", 1, 1_000_000)
        province = q.get("kode_provinsi", "16")
        found = [
            r for r in (system.updated_since(lo) if lo is not None else system.by_update())
            if (lo is None or r.updated_at >= lo) and (hi is None or r.updated_at <= hi)
            and r.region.split(".")[0] == province
        ]  # fmt: skip
        total = len(found)
        body = [render(r) for r in found[(page - 1) * per_page : page * per_page]]
        if backend.faults.malformed(system.code):
            corrupt(body, ("diperbarui_pada",))
        meta = {"halaman": page, "per_halaman": per_page, "total": total}
        return ok({"status": "ok", "data": body, "meta": meta})

    async def satu(request: Request) -> Response:
        system = await backend.enter(request)
        report = system.reports.get(request.path_params["tracking_id"])
        if report is None:
            raise HTTPException(404, "laporan tidak ditemukan")
        return ok({"status": "ok", "data": render_detail(report)})

    async def tindakan(request: Request) -> Response:
        system = await backend.enter(request)
        body = await json_body(request)
        label, event = body.get("status"), body.get("id_kejadian")
        if not isinstance(label, str) or not isinstance(event, str):
            raise HTTPException(422, "status dan id_kejadian wajib diisi")
        institution = body.get("instansi")
        try:
            report = system.write(
                request.path_params["tracking_id"], label, str(body.get("catatan") or ""),
                event, institution if isinstance(institution, str) else None,
            )  # fmt: skip
        except KeyError:
            raise HTTPException(404, "laporan tidak ditemukan") from None
        except UnknownLabel as error:
            raise HTTPException(422, str(error)) from None
        return ok({"status": "ok", "data": render(report)})

    async def create(request: Request) -> Response:
        system = await backend.enter(request)
        body = await json_body(request)
        hub_id = body.get("id_eksternal")
        if not isinstance(hub_id, str) or not body.get("judul") or not body.get("isi"):
            raise HTTPException(422, "id_eksternal, judul dan isi wajib diisi")

        def make(tracking_id: str) -> SandboxReport:
            report = new_report(
                random.Random(tracking_id), system.code, "lapor", system.vocabulary, tracking_id,
                str(body.get("kode_wilayah") or "16"), created=system.stamp(),
            )  # fmt: skip
            report.title, report.content = str(body["judul"]), str(body["isi"])
            report.kind = kind_of(body.get("jenis"), report.kind)
            category = body.get("kategori_id")
            if isinstance(category, str) and category.isdigit() and int(category) in TOPIC_NAMES:
                report.topic_id, report.category = int(category), category
            if isinstance(body.get("instansi"), str):
                report.institution = str(body["instansi"])
            report.anonymous, report.confidential = (
                bool(body.get("anonim")),
                bool(body.get("rahasia")),
            )
            report.channel, report.reporter_name, report.attachments = "INTEGRATED_APP", None, []
            return report

        label, event = body.get("status"), body.get("id_kejadian")
        first = None
        if label is not None or event is not None:
            if not isinstance(label, str) or not isinstance(event, str):
                raise HTTPException(422, "status dan id_kejadian diisi bersama")
            institution = body.get("instansi")
            first = SandboxUpdate(
                event, label, str(body.get("catatan") or ""),
                institution if isinstance(institution, str) else None, system.stamp(),
            )  # fmt: skip
        try:
            report = system.create(hub_id, make, first)
        except UnknownLabel as error:
            raise HTTPException(422, str(error)) from None
        return ok({"status": "ok", "data": {"tracking_id": report.id}}, 201)

    async def lampiran(request: Request) -> Response:
        system = await backend.enter(request)
        wanted = [i for i in request.query_params.get("tracking_id", "").split(",") if i]
        data = {
            i: [
                {"id": a.id, "nama_berkas": a.name, "jenis": a.media_type, "ukuran": a.size,
                 "url": a.url}
                for a in system.reports[i].attachments
            ]
            for i in wanted
            if i in system.reports
        }  # fmt: skip
        return ok({"status": "ok", "data": data})

    return Starlette(
        routes=[
            Route(f"{API}/status", status),
            Route(f"{API}/laporan", laporan, methods=["GET"]),
            Route(f"{API}/laporan", create, methods=["POST"]),
            Route(f"{API}/laporan/{{tracking_id}}", satu, methods=["GET"]),
            Route(f"{API}/laporan/{{tracking_id}}/tindakan", tindakan, methods=["POST"]),
            Route(f"{API}/lampiran", lampiran),
        ]
    )
