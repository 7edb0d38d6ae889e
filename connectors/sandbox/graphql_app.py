"""A sandbox regency GraphQL API (``POST /{node}/graphql``), in Indonesian.

Built with graphql-core from SDL; the connector only knows it through the
documents in the node table. ``buatAduan`` may come with the report's first status
(``status``, ``catatan``, ``idPeristiwa``), applied with the creation. A request's
``Idempotency-Key`` is honoured: a repeat gets the first answer and has no second
effect.
"""

from __future__ import annotations

import random
from typing import Any

from graphql import GraphQLError, GraphQLSchema, build_schema, graphql
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.sandbox.common import TOPIC_NAMES, Backend, iso, json_body, keyed, kind_of, ok
from connectors.sandbox.data import new_report
from connectors.sandbox.faults import corrupt
from connectors.sandbox.store import NodeSystem, SandboxReport, SandboxUpdate, UnknownLabel

SDL = """
enum StatusAduan { BARU DITUNDA DIVERIFIKASI DIDISPOSISI DITANGANI SELESAI DIARSIPKAN }

type Kategori { id: Int! nama: String! }
type Riwayat { idPeristiwa: ID! status: StatusAduan! catatan: String dicatat: String! }
type Balasan { id: ID! isi: String! dibuatPada: String! }
type Penilaian { nilai: Int! komentar: String }
type Lampiran { id: ID! nama: String! jenis: String! url: String! ukuran: Int }

type Aduan {
  id: ID!
  versi: Int!
  status: StatusAduan!
  judul: String!
  isi: String!
  jenis: String!
  kategori: Kategori!
  instansi: String
  wilayah: String!
  kanal: String!
  anonim: Boolean!
  rahasia: Boolean!
  tanggapan: String
  lokasi: String
  pelapor: String
  dibuatPada: String!
  diubahPada: String!
  lampiran: [Lampiran!]!
  idEksternal: ID
  riwayat: [Riwayat!]!
  balasanPelapor: [Balasan!]!
  penilaian: Penilaian
}

type HalamanPerubahan { simpul: [Aduan!]! kursorAkhir: String adaLagi: Boolean! }

type Query {
  perubahanAduan(sejak: String, jumlah: Int!): HalamanPerubahan!
  aduan(ids: [ID!]!): [Aduan!]!
  cariAduan(id: ID, idEksternal: ID): Aduan
}

type Mutation {
  ubahStatusAduan(
    id: ID!, status: StatusAduan!, catatan: String, idPeristiwa: ID!, versiHub: Int!,
    instansi: String
  ): Aduan!
  buatAduan(
    idEksternal: ID!, judul: String!, isi: String!, jenis: String!, kategori: String,
    wilayah: String!, instansi: String, anonim: Boolean!, rahasia: Boolean!, lokasi: String,
    status: StatusAduan, catatan: String, idPeristiwa: ID, versiHub: Int
  ): Aduan!
}
"""


def render(r: SandboxReport) -> dict[str, object]:
    return {
        "id": r.id,
        "versi": r.version,
        "status": r.status,
        "judul": r.title,
        "isi": r.content,
        "jenis": r.kind.lower(),
        "kategori": {"id": r.topic_id, "nama": TOPIC_NAMES[r.topic_id]},
        "instansi": r.institution,
        "wilayah": r.region,
        "kanal": r.channel.lower(),
        "anonim": r.anonymous,
        "rahasia": r.confidential,
        "tanggapan": r.note,
        "lokasi": r.location,
        "pelapor": r.reporter_name,
        "dibuatPada": iso(r.created_at),
        "diubahPada": iso(r.updated_at),
        "lampiran": [
            {"id": a.id, "nama": a.name, "jenis": a.media_type, "url": a.url, "ukuran": a.size}
            for a in r.attachments
        ],
        "idEksternal": r.hub_id,
        "riwayat": [
            {"idPeristiwa": u.event_id, "status": u.status, "catatan": u.note,
             "dicatat": iso(u.at)}
            for u in r.updates
        ],
        "balasanPelapor": [
            {"id": b.id, "isi": b.content, "dibuatPada": iso(b.at)} for b in r.replies
        ],
        "penilaian": {"nilai": r.rating[0], "komentar": r.rating[1]} if r.rating else None,
    }  # fmt: skip


class _Root:
    """Resolvers: graphql-core calls the root value's attributes with (info, **args)."""

    def __init__(self, system: NodeSystem) -> None:
        self.system = system

    def perubahanAduan(self, _info: Any, jumlah: int, sejak: str | None = None) -> object:
        after = int(sejak) if sejak and sejak.isdigit() else 0
        changed = self.system.after_seq(after, jumlah + 1)
        page = changed[:jumlah]
        return {
            "simpul": [render(r) for r in page],
            "kursorAkhir": str(page[-1].seq) if page else sejak,
            "adaLagi": len(changed) > jumlah,
        }

    def aduan(self, _info: Any, ids: list[str]) -> object:
        return [render(self.system.reports[i]) for i in ids if i in self.system.reports]

    def cariAduan(
        self, _info: Any, id: str | None = None, idEksternal: str | None = None
    ) -> object:
        if id is not None:
            report = self.system.reports.get(id)
        else:
            report = self.system.by_hub_id(idEksternal) if idEksternal else None
        return render(report) if report is not None else None

    def ubahStatusAduan(self, _info: Any, **args: Any) -> object:
        try:
            report = self.system.write(
                args["id"], args["status"], args.get("catatan") or "", args["idPeristiwa"],
                args.get("instansi"),
            )  # fmt: skip
        except KeyError:
            raise GraphQLError(f"aduan {args['id']} tidak ditemukan") from None
        except UnknownLabel as error:
            raise GraphQLError(str(error)) from None
        return render(report)

    def buatAduan(self, _info: Any, **args: Any) -> object:
        system = self.system

        def make(report_id: str) -> SandboxReport:
            report = new_report(
                random.Random(report_id), system.code, "graphql", system.vocabulary, report_id,
                args["wilayah"], created=system.stamp(),
            )  # fmt: skip
            report.title, report.content = args["judul"], args["isi"]
            report.kind = kind_of(args["jenis"], report.kind)
            category = str(args.get("kategori") or "")
            if category.isdigit() and int(category) in TOPIC_NAMES:
                report.topic_id, report.category = int(category), category
            report.anonymous, report.confidential = args["anonim"], args["rahasia"]
            report.reporter_name, report.attachments = None, []
            return report

        first = None
        if args.get("status") is not None or args.get("idPeristiwa") is not None:
            if args.get("status") is None or args.get("idPeristiwa") is None:
                raise GraphQLError("status dan idPeristiwa diisi bersama")
            first = SandboxUpdate(
                args["idPeristiwa"], args["status"], args.get("catatan") or "",
                args.get("instansi"), system.stamp(),
            )  # fmt: skip
        try:
            return render(system.create(args["idEksternal"], make, first))
        except UnknownLabel as error:
            raise GraphQLError(str(error)) from None


def build_app(backend: Backend) -> Starlette:
    schema: GraphQLSchema = build_schema(SDL)

    async def endpoint(request: Request) -> Response:
        system = await backend.enter(request)
        return await keyed(request, system, lambda: _execute(request, system))

    async def _execute(request: Request, system: NodeSystem) -> Response:
        body = await json_body(request)
        query, variables = body.get("query"), body.get("variables") or {}
        if not isinstance(query, str) or not isinstance(variables, dict):
            raise HTTPException(400, "query must be a string and variables an object")
        result = await graphql(schema, query, root_value=_Root(system), variable_values=variables)
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = [e.formatted for e in result.errors]
        changes = (result.data or {}).get("perubahanAduan")
        if changes and backend.faults.malformed(system.code):
            corrupt(changes["simpul"], ("diubahPada",))
        return ok(answer)

    return Starlette(routes=[Route("/{node}/graphql", endpoint, methods=["POST"])])
