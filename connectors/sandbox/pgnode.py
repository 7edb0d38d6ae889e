"""Sandbox nodes that only offer a PostgreSQL database (a "SIMPEL" legacy system).

Each node gets its own schema in the given database; the connector reaches it
with ``?search_path=<schema>`` in its DSN, as it would reach its own database.
The connector's SQL lives in the node table, not here: this module is the node.
"""

from __future__ import annotations

import random
import re
from urllib.parse import urlencode, urlsplit, urlunsplit

import asyncpg

from connectors.sandbox.store import SandboxReport, next_step
from connectors.sandbox.vocabulary import NodeVocabulary

_SCHEMA = re.compile(r"^simpel_[0-9_]+$")
_KINDS = {
    "COMPLAINT": "pengaduan", "ASPIRATION": "aspirasi",
    "INFORMATION_REQUEST": "permintaan informasi",
}  # fmt: skip
_CHANNELS = {
    "WEB": "website", "MOBILE_APP": "aplikasi", "SMS_1708": "sms", "TWITTER": "twitter",
    "FACE_TO_FACE": "tatap_muka", "INTEGRATED_APP": "api",
}  # fmt: skip

DDL = """
CREATE SEQUENCE perubahan;
CREATE SEQUENCE nomor_pengaduan START 5001;
CREATE TABLE pengaduan (
    id bigint PRIMARY KEY,
    judul text NOT NULL,
    isi text NOT NULL,
    jenis text NOT NULL,
    berkadar_pengawasan boolean,
    kategori_kode integer,
    kode_status text NOT NULL CHECK (kode_status IN ('10', '15', '20', '30', '40', '50', '90')),
    langkah integer NOT NULL DEFAULT 0,
    catatan text,
    alasan_arsip text,
    instansi text,
    wilayah text NOT NULL,
    kanal text NOT NULL,
    anonim boolean NOT NULL DEFAULT false,
    rahasia boolean NOT NULL DEFAULT false,
    lokasi text,
    tanggal_kejadian date,
    pelapor text,
    dibuat timestamptz NOT NULL,
    diubah timestamptz NOT NULL,
    versi integer NOT NULL DEFAULT 1,
    urutan bigint NOT NULL UNIQUE DEFAULT nextval('perubahan'),
    id_hub text UNIQUE,
    versi_hub integer,
    peristiwa text[] NOT NULL DEFAULT '{}',
    penilaian_nilai integer CHECK (penilaian_nilai BETWEEN 1 AND 5),
    penilaian_komentar text
);
CREATE TABLE balasan_pelapor (
    id text PRIMARY KEY,
    pengaduan_id bigint NOT NULL REFERENCES pengaduan (id),
    isi text NOT NULL,
    dibuat timestamptz NOT NULL
);
CREATE INDEX ON balasan_pelapor (pengaduan_id);
CREATE TABLE lampiran (
    id text PRIMARY KEY,
    pengaduan_id bigint NOT NULL REFERENCES pengaduan (id),
    nama text NOT NULL,
    jenis text NOT NULL,
    ukuran integer,
    url text NOT NULL
);
"""
REPORT_COLUMNS = (
    "id", "judul", "isi", "jenis", "berkadar_pengawasan", "kategori_kode", "kode_status",
    "langkah", "catatan", "alasan_arsip", "instansi", "wilayah", "kanal", "anonim", "rahasia",
    "lokasi", "tanggal_kejadian", "pelapor", "dibuat", "diubah", "versi",
)  # fmt: skip
OPEN_REPORTS = "SELECT id, kode_status, langkah FROM pengaduan ORDER BY id"
ADVANCE = """
UPDATE pengaduan SET kode_status = $2, catatan = $3, langkah = $4, versi = versi + 1,
    diubah = clock_timestamp(), urutan = nextval('perubahan')
WHERE id = $1
"""
STATUS_OF = "SELECT kode_status FROM pengaduan WHERE id = ($1::text)::bigint"
ATTACHMENTS = """
SELECT p.id::text AS id, p.id_hub, array_remove(array_agg(l.id ORDER BY l.id), NULL) AS lampiran
FROM pengaduan p LEFT JOIN lampiran l ON l.pengaduan_id = p.id
GROUP BY p.id
"""
WRITES = "SELECT id::text AS id, peristiwa FROM pengaduan WHERE cardinality(peristiwa) > 0"
# The node's staff acting on a row the moment it is inserted (a test's interleaving,
# once): AFTER INSERT runs inside the inserting statement, so the row the hub's
# creation returns has already been changed by them.
STAFF_AT_CREATION = """
CREATE TABLE sela_staf (momen text PRIMARY KEY, kode_status text NOT NULL);
CREATE FUNCTION staf_menyela() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    label text;
BEGIN
    DELETE FROM sela_staf WHERE momen = 'created' RETURNING kode_status INTO label;
    IF label IS NOT NULL THEN
        UPDATE pengaduan SET kode_status = label, catatan = 'Status ' || label,
            versi = versi + 1, diubah = clock_timestamp(), urutan = nextval('perubahan')
        WHERE id = NEW.id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER staf_menyela AFTER INSERT ON pengaduan
    FOR EACH ROW EXECUTE FUNCTION staf_menyela();
"""
INTERLEAVE = """
INSERT INTO sela_staf (momen, kode_status) VALUES ($1, $2)
ON CONFLICT (momen) DO UPDATE SET kode_status = EXCLUDED.kode_status
"""
# The reporter answers a follow-up, or rates the handling, in the node's app: the
# report changes (a new change number), its status stays.
REPLY = """
WITH changed AS (
    UPDATE pengaduan SET versi = versi + 1, diubah = clock_timestamp(),
        urutan = nextval('perubahan')
    WHERE id = ($1::text)::bigint
    RETURNING id, diubah
)
INSERT INTO balasan_pelapor (id, pengaduan_id, isi, dibuat)
SELECT changed.id::text || '-b' || (
           SELECT count(*) + 1 FROM balasan_pelapor b WHERE b.pengaduan_id = changed.id),
       changed.id, $2, changed.diubah
FROM changed
"""
RATE = """
UPDATE pengaduan SET penilaian_nilai = $2, penilaian_komentar = $3, versi = versi + 1,
    diubah = clock_timestamp(), urutan = nextval('perubahan')
WHERE id = ($1::text)::bigint AND penilaian_nilai IS NULL
"""
SET_STATUS = """
UPDATE pengaduan SET kode_status = $2, versi = versi + 1, diubah = clock_timestamp(),
    urutan = nextval('perubahan')
WHERE id = ($1::text)::bigint
"""


def schema_for(node: str) -> str:
    return "simpel_" + node.replace(".", "_")


def node_dsn(database_url: str, node: str) -> str:
    """The DSN the node's connector uses: the database, with the node's schema first."""
    parts = urlsplit(database_url)
    query = "&".join(q for q in (parts.query, urlencode({"search_path": schema_for(node)})) if q)
    return urlunsplit(parts._replace(query=query))


class PostgresNode:
    """One database-only node: created, seeded, advanced."""

    def __init__(self, code: str, vocabulary: NodeVocabulary, database_url: str) -> None:
        self.code = code
        self.vocabulary = vocabulary
        self.schema = schema_for(code)
        if not _SCHEMA.match(self.schema):
            raise ValueError(f"unexpected schema name {self.schema!r}")
        self.dsn = node_dsn(database_url, code)
        self._admin_url = database_url

    async def create(self, reports: list[SandboxReport]) -> None:
        """Drops and recreates the node's schema, then loads ``reports``."""
        conn = await asyncpg.connect(self._admin_url)
        try:
            # DDL cannot take a parameter for a name; the name was checked above.
            await conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
            await conn.execute(f'CREATE SCHEMA "{self.schema}"')
            await conn.execute(f'SET search_path = "{self.schema}"')
            async with conn.transaction():
                await conn.execute(DDL)
                ordered = sorted(reports, key=lambda r: (r.updated_at, int(r.id)))
                # COPY: a large seed (the initial-sync benchmark's) loads in seconds.
                # urutan keeps its default, so change numbers follow update order.
                await conn.copy_records_to_table(
                    "pengaduan", records=[_row(r) for r in ordered], columns=REPORT_COLUMNS
                )
                await conn.copy_records_to_table(
                    "lampiran",
                    records=[(a.id, int(r.id), a.name, a.media_type, a.size, a.url)
                             for r in ordered for a in r.attachments],
                    columns=("id", "pengaduan_id", "nama", "jenis", "ukuran", "url"),
                )  # fmt: skip
                # After the seed's COPY, which would fire it for every row.
                await conn.execute(STAFF_AT_CREATION)
        finally:
            await conn.close()

    async def _connect(self) -> asyncpg.Connection:
        return await asyncpg.connect(self.dsn)

    async def advance(self, rng: random.Random) -> str | None:
        """The node's staff move one open report a step; returns its id."""
        conn = await self._connect()
        try:
            rows = await conn.fetch(OPEN_REPORTS)
            candidates = [
                r for r in rows if not self.vocabulary.final(r["kode_status"], r["langkah"])
            ]
            if not candidates:
                return None
            row = rng.choice(candidates)
            label, note, step = next_step(self.vocabulary, row["kode_status"], row["langkah"], rng)
            await conn.execute(ADVANCE, row["id"], label, note, step)
            return str(row["id"])
        finally:
            await conn.close()

    async def set_status(self, external_id: str, label: str) -> None:
        conn = await self._connect()
        try:
            await conn.execute(SET_STATUS, external_id, label)
        finally:
            await conn.close()

    async def interleave(self, moment: str, label: str) -> None:
        """The node's staff give the next row the hub inserts ``label`` as it is
        inserted (``moment`` ``created``; the database kind makes no second call)."""
        if moment != "created":
            raise ValueError(f"a database node has no moment {moment!r}, only 'created'")
        conn = await self._connect()
        try:
            await conn.execute(INTERLEAVE, moment, label)
        finally:
            await conn.close()

    async def reply(self, external_id: str, content: str) -> None:
        """The reporter answers a follow-up in the node's app."""
        conn = await self._connect()
        try:
            if await conn.execute(REPLY, external_id, content) != "INSERT 0 1":
                raise KeyError(external_id)
        finally:
            await conn.close()

    async def rate(self, external_id: str, score: int, comment: str | None) -> None:
        """The reporter rates the handling in the node's app, once."""
        conn = await self._connect()
        try:
            if await conn.execute(RATE, external_id, score, comment) != "UPDATE 1":
                raise ValueError(f"report {external_id} is unknown or rated already")
        finally:
            await conn.close()

    async def status_of(self, external_id: str) -> str | None:
        conn = await self._connect()
        try:
            value = await conn.fetchval(STATUS_OF, external_id)
            return str(value) if value is not None else None
        finally:
            await conn.close()

    async def inventory(self) -> dict[str, tuple[str | None, list[str]]]:
        """Every report id with its hub id and attachment ids, read inside the node."""
        conn = await self._connect()
        try:
            rows = await conn.fetch(ATTACHMENTS)
            return {r["id"]: (r["id_hub"], list(r["lampiran"])) for r in rows}
        finally:
            await conn.close()

    async def writes(self) -> dict[str, list[str]]:
        """The event ids the hub's writes left on each report, in order."""
        conn = await self._connect()
        try:
            return {r["id"]: list(r["peristiwa"]) for r in await conn.fetch(WRITES)}
        finally:
            await conn.close()

    async def drop(self) -> None:
        conn = await asyncpg.connect(self._admin_url)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
        finally:
            await conn.close()


def _row(r: SandboxReport) -> tuple[object, ...]:
    return (
        int(r.id), r.title, r.content, _KINDS[r.kind], r.supervisory, int(r.category), r.status,
        r.step, r.note, r.archive_reason, r.institution, r.region, _CHANNELS[r.channel],
        r.anonymous, r.confidential, r.location, r.incident_date, r.reporter_name,
        r.created_at, r.updated_at, r.version,
    )  # fmt: skip
