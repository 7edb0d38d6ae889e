"""Institutions that receive dispositions: editable seed data, never an enum.

The hub loads these rows into its ``institutions`` table once; later edits live
in the database (``sp4n-hub institutions``, the admin mutations), so the tuple
below is a starting point, not the truth.

Sources, as of 2026: the province's perangkat daerah follow Peraturan Daerah
Provinsi Sumatera Selatan Nomor 14 Tahun 2016 tentang Pembentukan dan Susunan
Perangkat Daerah as later amended, with the Sekretariat Daerah's biro listed one
by one (SP4N-LAPOR! addresses reports to them); the regencies' own set is the
dinas and badan every kabupaten/kota forms under Peraturan Pemerintah Nomor 18
Tahun 2016 (the names vary a little from one regency to another: an admin renames
them). The lists were compiled without network access to the decrees themselves,
and each row's ``source`` says where it comes from (the hub keeps it beside the
row and shows it in GraphQL).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from schema.nodes import NATIONAL_NODE
from schema.regions import PROVINCE_CODE, REGENCIES, RegionType


class InstitutionLevel(enum.Enum):
    REGENCY_GOVERNMENT = "REGENCY_GOVERNMENT"
    """A kabupaten/kota's government as a whole."""
    REGENCY_OPD = "REGENCY_OPD"
    """One of a kabupaten/kota's own dinas, badan or units (a kecamatan, a puskesmas)."""
    PROVINCIAL_OPD = "PROVINCIAL_OPD"
    NATIONAL = "NATIONAL"


PROVINCIAL_SOURCE = (
    "Perda Provinsi Sumatera Selatan No. 14 Tahun 2016 (perangkat daerah), as amended; "
    "compiled offline, to be checked against the current decree"
)
REGENCY_SOURCE = (
    "PP No. 18 Tahun 2016 (perangkat daerah kabupaten/kota): the common dinas and badan; "
    "each regency renames or adds its own"
)
_SOURCES = {
    InstitutionLevel.REGENCY_GOVERNMENT: "the kabupaten/kota of schema/regions.py (BPS codes)",
    InstitutionLevel.REGENCY_OPD: REGENCY_SOURCE,
    InstitutionLevel.PROVINCIAL_OPD: PROVINCIAL_SOURCE,
    InstitutionLevel.NATIONAL: "SP4N-LAPOR!'s national ministries and agencies (a selection)",
}


@dataclass(frozen=True, slots=True)
class Institution:
    code: str
    name: str
    level: InstitutionLevel
    node_code: str
    """The federation node whose system handles this institution's reports."""
    region_code: str | None

    @property
    def source(self) -> str:
        """Where this seed row comes from."""
        return _SOURCES[self.level]


# The province's 48 perangkat daerah and biro (PROVINCIAL_SOURCE); the code is a
# short slug of ours. The first 22 are the hub's first list, kept as they were.
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
    ("setda", "Sekretariat Daerah"),
    ("setwan", "Sekretariat DPRD"),
    ("biropem", "Biro Pemerintahan dan Otonomi Daerah"),
    ("birohukum", "Biro Hukum"),
    ("biroadpem", "Biro Administrasi Pembangunan"),
    ("biropbj", "Biro Pengadaan Barang dan Jasa"),
    ("biroorg", "Biro Organisasi"),
    ("biroumum", "Biro Umum dan Perlengkapan"),
    ("biroadpim", "Biro Administrasi Pimpinan"),
    ("disnakertrans", "Dinas Tenaga Kerja dan Transmigrasi"),
    (
        "dp3akb",
        "Dinas Pemberdayaan Perempuan, Perlindungan Anak, Pengendalian Penduduk dan "
        "Keluarga Berencana",
    ),
    ("dkpangan", "Dinas Ketahanan Pangan"),
    ("dpmd", "Dinas Pemberdayaan Masyarakat dan Desa"),
    ("dispora", "Dinas Pemuda dan Olahraga"),
    ("disbudpar", "Dinas Kebudayaan dan Pariwisata"),
    ("dispustaka", "Dinas Perpustakaan"),
    ("disarsip", "Dinas Kearsipan"),
    ("dkp", "Dinas Kelautan dan Perikanan"),
    ("disbun", "Dinas Perkebunan"),
    ("disnakkeswan", "Dinas Peternakan dan Kesehatan Hewan"),
    ("dishut", "Dinas Kehutanan"),
    ("bapenda", "Badan Pendapatan Daerah"),
    ("bpkad", "Badan Pengelola Keuangan dan Aset Daerah"),
    ("bkd", "Badan Kepegawaian Daerah"),
    ("bpsdm", "Badan Pengembangan Sumber Daya Manusia"),
    ("kesbangpol", "Badan Kesatuan Bangsa dan Politik"),
)

# Every kabupaten/kota's own dinas and badan (REGENCY_SOURCE), named for the regency.
_REGENCY_OPDS: tuple[tuple[str, str], ...] = (
    ("disdik", "Dinas Pendidikan"),
    ("dinkes", "Dinas Kesehatan"),
    ("dpupr", "Dinas Pekerjaan Umum dan Penataan Ruang"),
    ("perkim", "Dinas Perumahan dan Kawasan Permukiman"),
    ("dinsos", "Dinas Sosial"),
    ("dishub", "Dinas Perhubungan"),
    ("disdukcapil", "Dinas Kependudukan dan Pencatatan Sipil"),
    ("diskominfo", "Dinas Komunikasi dan Informatika"),
    ("dlh", "Dinas Lingkungan Hidup"),
    ("dpmptsp", "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu"),
    ("satpolpp", "Satuan Polisi Pamong Praja"),
    ("bpbd", "Badan Penanggulangan Bencana Daerah"),
    ("bappeda", "Badan Perencanaan Pembangunan Daerah"),
    ("bapenda", "Badan Pendapatan Daerah"),
    ("inspektorat", "Inspektorat"),
)

_NATIONAL: tuple[tuple[str, str], ...] = (
    ("kemenpanrb", "Kementerian Pendayagunaan Aparatur Negara dan Reformasi Birokrasi"),
    ("kemendagri", "Kementerian Dalam Negeri"),
    ("kemenkes", "Kementerian Kesehatan"),
    ("kemendikdasmen", "Kementerian Pendidikan Dasar dan Menengah"),
    ("kemenpu", "Kementerian Pekerjaan Umum"),
)


def _regency_name(name: str, kind: RegionType) -> str:
    return f"{'Kota' if kind is RegionType.KOTA else 'Kabupaten'} {name}"


INSTITUTIONS: tuple[Institution, ...] = (
    *(
        Institution(
            f"pemda-{r.code}",
            f"Pemerintah {_regency_name(r.name, r.type)}",
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
        Institution(
            f"opd-{r.code}-{slug}",
            f"{name} {_regency_name(r.name, r.type)}",
            InstitutionLevel.REGENCY_OPD,
            r.code,
            r.code,
        )
        for r in REGENCIES
        for slug, name in _REGENCY_OPDS
    ),
    *(
        Institution(f"kl-{slug}", name, InstitutionLevel.NATIONAL, NATIONAL_NODE, None)
        for slug, name in _NATIONAL
    ),
)
