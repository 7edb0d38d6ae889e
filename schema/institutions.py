"""Institutions that receive dispositions: editable seed data, never an enum.

The hub loads these rows into its ``institutions`` table once; later edits live
in the database, so the tuple below is a starting point, not the truth.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from schema.nodes import NATIONAL_NODE
from schema.regions import PROVINCE_CODE, REGENCIES, RegionType


class InstitutionLevel(enum.Enum):
    REGENCY_GOVERNMENT = "REGENCY_GOVERNMENT"
    PROVINCIAL_OPD = "PROVINCIAL_OPD"
    NATIONAL = "NATIONAL"


@dataclass(frozen=True, slots=True)
class Institution:
    code: str
    name: str
    level: InstitutionLevel
    node_code: str
    """The federation node whose system handles this institution's reports."""
    region_code: str | None


# Provincial OPD names seen in public sources; the code is a short slug of ours.
_PROVINCIAL_OPDS: tuple[tuple[str, str], ...] = (
    ("disdik", "Dinas Pendidikan"),
    ("dinkes", "Dinas Kesehatan"),
    ("pubmtr", "Dinas Pekerjaan Umum Bina Marga dan Tata Ruang"),
    ("psda", "Dinas Pengelolaan Sumber Daya Air"),
    ("perkim", "Dinas Perumahan dan Kawasan Permukiman"),
    ("dinsos", "Dinas Sosial"),
    ("dishub", "Dinas Perhubungan"),
    ("disdukcapil", "Dinas Kependudukan dan Pencatatan Sipil"),
    ("diskominfo", "Dinas Komunikasi dan Informatika"),
    ("dlhp", "Dinas Lingkungan Hidup dan Pertanahan"),
    ("esdm", "Dinas Energi dan Sumber Daya Mineral"),
    ("diskopukm", "Dinas Koperasi dan UMKM"),
    ("disperin", "Dinas Perindustrian"),
    ("disdag", "Dinas Perdagangan"),
    ("dpmptsp", "Dinas Penanaman Modal dan PTSP"),
    ("distanhorti", "Dinas Pertanian Tanaman Pangan dan Hortikultura"),
    ("bpbd", "Badan Penanggulangan Bencana Daerah"),
    ("biroekon", "Biro Perekonomian"),
    ("birokesra", "Biro Kesejahteraan Rakyat"),
    ("inspektorat", "Inspektorat"),
    ("bappeda", "Bappeda"),
    ("satpolpp", "Satpol PP"),
)

_NATIONAL: tuple[tuple[str, str], ...] = (
    ("kemenpanrb", "Kementerian Pendayagunaan Aparatur Negara dan Reformasi Birokrasi"),
    ("kemendagri", "Kementerian Dalam Negeri"),
    ("kemenkes", "Kementerian Kesehatan"),
    ("kemendikdasmen", "Kementerian Pendidikan Dasar dan Menengah"),
    ("kemenpu", "Kementerian Pekerjaan Umum"),
)


def _government_name(name: str, kind: RegionType) -> str:
    return f"Pemerintah {'Kota' if kind is RegionType.KOTA else 'Kabupaten'} {name}"


INSTITUTIONS: tuple[Institution, ...] = (
    *(
        Institution(
            f"pemda-{r.code}",
            _government_name(r.name, r.type),
            InstitutionLevel.REGENCY_GOVERNMENT,
            r.code,
            r.code,
        )
        for r in REGENCIES
    ),
    Institution(
        "pemprov-16",
        "Pemerintah Provinsi Sumatera Selatan",
        InstitutionLevel.PROVINCIAL_OPD,
        PROVINCE_CODE,
        PROVINCE_CODE,
    ),
    *(
        Institution(
            f"opd-16-{slug}", name, InstitutionLevel.PROVINCIAL_OPD, PROVINCE_CODE, PROVINCE_CODE
        )
        for slug, name in _PROVINCIAL_OPDS
    ),
    *(
        Institution(f"kl-{slug}", name, InstitutionLevel.NATIONAL, NATIONAL_NODE, None)
        for slug, name in _NATIONAL
    ),
)
