"""The demo data set: a deterministic, realistic index of South Sumatran reports.

``seed_reports`` bulk-loads reports with their reporters, histories, disposition
chains, follow-ups and external references through COPY, in one transaction.
The same seed and the same ``now`` give the same rows, byte for byte: every
random choice, uuids included, comes from one ``random.Random(seed)`` stream.

The load is an initial import of reports that already exist, not a series of
changes, so it writes no outbox rows and publishes no events. Each report is
submitted and each step of its history decided by the domain core
(``hub.domain.core.submit`` and ``decide``), so every chain is one the write path
could have produced; the reports and history rows are copied in by the store's
writer of decided effects (``hub.store.effects``). Personal data goes to
``reporters`` only; the report texts are built from templates that name no person.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import random
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Generic, TypeVar

from hub.domain.commands import (
    Actor,
    Archive,
    Complete,
    Dispose,
    FollowUp,
    Postpone,
    Reopen,
    Submit,
    Transition,
    Verify,
)
from hub.domain.core import (
    Change,
    Current,
    Entry,
    Known,
    NewReport,
    allowed_verbs,
    decide,
    default_institution,
    submit,
)
from hub.errors import HubError
from hub.ministry.autoclose import AUTO_CLOSE_NOTE
from hub.store.connection import Connection, Session
from hub.store.effects import copy_history, copy_reports
from schema.calendar import WorkingCalendar
from schema.institutions import INSTITUTIONS
from schema.lifecycle import ReportState, Verb
from schema.nodes import NATIONAL_NODE
from schema.regions import PROVINCE_CODE, REGENCIES, RegionType
from schema.report import (
    ActorRole,
    ArchiveReason,
    Channel,
    ComplaintSubKind,
    PrivacyFlags,
    ReportKind,
)
from schema.sla import CURRENT_SLA_VERSION, SLA_RULES, SlaStage, rule_for
from schema.topics import TOPICS

T = TypeVar("T")


class SeedError(HubError):
    """The demo data set cannot be loaded into this database."""

    code = "SEED"


@dataclass(frozen=True, slots=True)
class _Place:
    """Where reports of one regency happen: real-sounding names, a rough centre."""

    town: str
    kecamatan: tuple[str, ...]
    kelurahan: tuple[str, ...]
    jalan: tuple[str, ...]
    hospital: str
    centre: tuple[float, float]
    ref_format: str
    """The shape of tracking ids in the regency's own complaint app."""
    weight: int
    """Relative report volume, roughly the population in ten thousands."""


# fmt: off
# The place and text tables below are data laid out as tables; the formatter would
# put every name on a line of its own and make them unreadable.
_LINTAS = "Jl. Lintas Sumatera"
_PLACES: Mapping[str, _Place] = {
    "16.01": _Place("Baturaja", ("Baturaja Timur", "Baturaja Barat", "Lengkiti", "Peninjauan"),
                    ("Sukaraya", "Kemalaraja", "Air Gading", "Sekar Jaya", "Tanjung Baru"),
                    ("Jl. Dr. Moh. Hatta", "Jl. Jenderal Sudirman", _LINTAS, "Jl. Kartini"),
                    "RSUD Dr. H. Ibnu Sutowo", (-4.13, 104.17), "OKU/{year}/{seq:05d}", 37),
    "16.02": _Place("Kayuagung", ("Kayuagung", "Tanjung Lubuk", "Lempuing", "Pampangan"),
                    ("Kutaraya", "Jua-Jua", "Perigi", "Sukadana", "Cinta Raja"),
                    ("Jl. Letnan Muchtar Saleh", "Jl. Lintas Timur", "Jl. Merdeka"),
                    "RSUD Kayuagung", (-3.40, 104.83), "OKI-{seq:06d}", 80),
    "16.03": _Place("Muara Enim", ("Muara Enim", "Lawang Kidul", "Tanjung Agung", "Ujan Mas"),
                    ("Pasar II", "Tungkal", "Tanjung Enim", "Air Lintang", "Muara Lawai"),
                    ("Jl. Jenderal Sudirman", "Jl. Bypass Muara Enim", _LINTAS),
                    "RSUD Dr. H. Mohamad Rabain", (-3.65, 103.77), "ME{year}{seq:05d}", 63),
    "16.04": _Place("Lahat", ("Lahat", "Merapi Barat", "Kikim Timur", "Kota Agung"),
                    ("Bandar Jaya", "Pasar Baru", "Gunung Gajah", "Kota Baru", "Talang Jawa"),
                    ("Jl. Mayor Ruslan", _LINTAS, "Jl. Kolonel Barlian", "Jl. Dr. Sutomo"),
                    "RSUD Lahat", (-3.79, 103.54), "LHT/{year}/{seq:05d}", 43),
    "16.05": _Place("Muara Beliti", ("Muara Beliti", "Tugumulyo", "Jayaloka", "Purwodadi"),
                    ("Mataram", "Sukakarya", "Trikoyo", "Sumber Harta", "Jaya Tunggal"),
                    (_LINTAS, "Jl. Poros Tugumulyo", "Jl. Pembangunan"),
                    "RSUD Dr. Sobirin", (-3.27, 103.10), "MURA-{seq:06d}", 40),
    "16.06": _Place("Sekayu", ("Sekayu", "Babat Toman", "Sungai Lilin", "Bayung Lencir"),
                    ("Balai Agung", "Serasan Jaya", "Kayuara", "Soak Baru", "Bailangu"),
                    ("Jl. Merdeka", "Jl. Kolonel Wahid Udin", "Jl. Lintas Timur"),
                    "RSUD Sekayu", (-2.88, 103.84), "MUBA/{year}/{seq:06d}", 63),
    "16.07": _Place("Pangkalan Balai", ("Banyuasin III", "Talang Kelapa", "Sembawa", "Betung"),
                    ("Pangkalan Balai", "Sukajadi", "Kenten Laut", "Tanah Mas", "Lalang Sembawa"),
                    ("Jl. Palembang-Betung", "Jl. Sukajadi Raya", "Jl. Merdeka"),
                    "RSUD Banyuasin", (-2.89, 104.40), "BA-{year}-{seq:05d}", 85),
    "16.08": _Place("Martapura", ("Martapura", "Belitang", "Bunga Mayang", "Buay Madang"),
                    ("Veteran Jaya", "Gumawang", "Tanjung Kemala", "Sumber Jaya", "Dadi Mulyo"),
                    (_LINTAS, "Jl. Ahmad Yani", "Jl. Raya Belitang"),
                    "RSUD Martapura", (-4.31, 104.37), "OKUT{seq:06d}", 66),
    "16.09": _Place("Muaradua", ("Muaradua", "Banding Agung", "Simpang", "Buay Sandang Aji"),
                    ("Pasar Muaradua", "Bumi Agung", "Pelangki", "Surabaya Ranau"),
                    ("Jl. Lintas Muaradua", "Jl. Merdeka", "Jl. Raya Ranau"),
                    "RSUD Muaradua", (-4.53, 104.07), "OKUS/{year}/{seq:05d}", 41),
    "16.10": _Place("Indralaya", ("Indralaya", "Indralaya Utara", "Tanjung Raja", "Pemulutan"),
                    ("Timbangan", "Indralaya Mulya", "Sakatiga", "Tanjung Raja Selatan"),
                    ("Jl. Lintas Timur", "Jl. Raya Indralaya", "Jl. Palembang-Prabumulih"),
                    "RSUD Ogan Ilir", (-3.22, 104.65), "OI-{seq:06d}", 42),
    "16.11": _Place("Tebing Tinggi", ("Tebing Tinggi", "Pendopo", "Lintang Kanan", "Ulu Musi"),
                    ("Pasar Tebing Tinggi", "Tanjung Kupang", "Padang Titiran", "Tanjung Raya"),
                    (_LINTAS, "Jl. Poros Tebing Tinggi", "Jl. Merdeka"),
                    "RSUD Tebing Tinggi", (-3.62, 103.07), "4L-{year}{seq:05d}", 34),
    "16.12": _Place("Talang Ubi", ("Talang Ubi", "Penukal", "Abab", "Tanah Abang"),
                    ("Talang Ubi Timur", "Handayani Mulya", "Babat", "Tanah Abang Jaya"),
                    ("Jl. Merdeka Pendopo", "Jl. Lintas Pendopo", "Jl. Poros PALI"),
                    "RSUD Talang Ubi", (-3.34, 103.86), "PALI/{seq:05d}", 20),
    "16.13": _Place("Rupit", ("Rupit", "Rawas Ulu", "Karang Jaya", "Nibung"),
                    ("Muara Rupit", "Surulangun", "Karang Dapo", "Beringin Makmur"),
                    (_LINTAS, "Jl. Poros Rupit"),
                    "RSUD Rupit", (-2.72, 102.95), "MRT{year}{seq:05d}", 20),
    "16.71": _Place("Palembang",
                    ("Ilir Barat I", "Ilir Timur I", "Seberang Ulu I", "Kemuning", "Sukarami",
                     "Kalidoni", "Plaju", "Kertapati", "Sako", "Alang-Alang Lebar", "Gandus"),
                    ("26 Ilir", "Bukit Lama", "Talang Kelapa", "Lorok Pakjo", "Demang Lebar Daun",
                     "Plaju Ulu", "15 Ulu", "7 Ulu", "Karya Baru", "Sako Baru", "Kebun Bunga",
                     "Siring Agung", "Kemang Agung", "Sialang"),
                    ("Jl. Jenderal Sudirman", "Jl. Demang Lebar Daun", "Jl. Kolonel H. Burlian",
                     "Jl. Basuki Rahmat", "Jl. R. Sukamto", "Jl. Angkatan 45", "Jl. Veteran",
                     "Jl. Mayor Ruslan", "Jl. Soekarno-Hatta", "Jl. Mayor Zen",
                     "Jl. Tanjung Api-Api", "Jl. KH. Azhari", "Jl. Macan Lindungan",
                     "Jl. Sultan Mahmud Badaruddin II"),
                    "RSUD Bari", (-2.976, 104.775), "PLG-{year}-{seq:06d}", 170),
    "16.72": _Place("Pagar Alam", ("Pagar Alam Utara", "Pagar Alam Selatan", "Dempo Utara"),
                    ("Alun Dua", "Bangun Rejo", "Kuripan Babas", "Jokoh", "Gunung Dempo"),
                    ("Jl. Kapten Sanap", "Jl. Lingkar Dempo", "Jl. Ahmad Yani"),
                    "RSUD Besemah", (-4.02, 103.25), "PGA{seq:06d}", 14),
    "16.73": _Place("Lubuk Linggau", ("Lubuk Linggau Barat I", "Lubuk Linggau Timur I",
                                      "Lubuk Linggau Utara II", "Lubuk Linggau Selatan I"),
                    ("Pasar Satelit", "Taba Jemekeh", "Megang", "Petanang", "Watas Lubuk Durian"),
                    ("Jl. Yos Sudarso", "Jl. Garuda", _LINTAS, "Jl. Depati Said"),
                    "RSUD Siti Aisyah", (-3.30, 102.86), "LLG/{year}/{seq:05d}", 24),
    "16.74": _Place("Prabumulih", ("Prabumulih Timur", "Prabumulih Barat", "Cambai"),
                    ("Muara Dua", "Gunung Ibul", "Sukaraja", "Patih Galung", "Karang Raja"),
                    ("Jl. Jenderal Sudirman", "Jl. Lingkar Prabumulih", "Jl. Padat Karya"),
                    "RSUD Prabumulih", (-3.43, 104.24), "PBM-{seq:06d}", 19),
}
_PROVINCE_WEIGHT = 45
"""Reports about provincial matters (region ``16``), relative to the regencies above."""
_PROVINCE_REF_FORMAT = "SUMSEL-{year}{month:02d}-{seq:05d}"
_MUSI_REGIONS = frozenset({"16", "16.05", "16.06", "16.07", "16.11", "16.13", "16.71"})


@dataclass(frozen=True, slots=True)
class _Text:
    """Templates of one leaf topic; placeholders name a place, never a person."""

    opd: str
    """The provincial OPD slug that handles the topic."""
    ministry: str
    complaints: tuple[tuple[str, str], ...]
    """(title, body) pairs."""
    aspiration: tuple[str, str]
    information: tuple[str, str]
    tags: tuple[str, ...]
    weight: int
    supervisory: float = 0.08
    """Share of complaints that need an investigation (berkadar pengawasan)."""
    months: frozenset[int] = frozenset()
    """Months in which the topic is four times as frequent (PPDB, the dry season)."""


_T = _Text
_TEXTS: Mapping[int, _Text] = {
    101: _T("dinkes", "kemenkes", (
        ("Pelayanan Puskesmas {kel} lambat dan antrean panjang",
         "Saya berobat ke Puskesmas {kel}, Kecamatan {kec}, tetapi baru dilayani setelah "
         "menunggu lebih dari {jam} jam. Loket pendaftaran baru dibuka pukul 09.00 padahal "
         "jadwalnya pukul 07.30."),
        ("Obat di Puskesmas {kel} sering kosong",
         "Sudah {durasi} obat untuk penyakit kronis seperti hipertensi dan diabetes di "
         "Puskesmas {kel} tidak tersedia; pasien diminta membeli sendiri di apotek luar."),
        ("Petugas Puskesmas {kel} tidak ada di tempat saat jam pelayanan",
         "Pada jam pelayanan ruang periksa umum Puskesmas {kel} kosong dan pasien disuruh "
         "menunggu tanpa kepastian."),
    ), ("Usulan layanan sore di Puskesmas {kel}",
        "Mohon agar Puskesmas {kel} membuka layanan sore hari karena banyak warga {kec} "
        "yang bekerja pada pagi hari."),
        ("Jadwal imunisasi di Puskesmas {kel}",
         "Mohon informasi jadwal imunisasi dasar bayi di Puskesmas {kel}, Kecamatan {kec}, "
         "serta syarat yang harus dibawa."),
        ("puskesmas", "antrean", "obat"), 6),
    102: _T("dinkes", "kemenkes", (
        ("Pasien BPJS di {rs} diminta membayar biaya tambahan",
         "Keluarga kami dirawat di {rs} sebagai peserta BPJS Kesehatan, tetapi diminta "
         "membayar obat dan alat kesehatan yang katanya tidak ditanggung, tanpa penjelasan "
         "tertulis."),
        ("Pasien ditolak di IGD {rs} dengan alasan kamar penuh",
         "Orang tua kami dibawa ke IGD {rs} pada malam hari namun diminta mencari rumah "
         "sakit lain karena kamar penuh, tanpa dibantu rujukan."),
    ), ("Usulan antrean daring di {rs}",
        "Kami mengusulkan agar {rs} menerapkan pendaftaran daring supaya pasien dari {kec} "
        "tidak perlu datang subuh untuk mengambil nomor antrean."),
        ("Prosedur rujukan ke {rs}",
         "Mohon informasi alur rujukan dari puskesmas ke {rs} dan dokumen apa saja yang "
         "diperlukan."),
        ("rumah-sakit", "bpjs", "igd"), 5, 0.15),
    103: _T("dinkes", "kemenkes", (
        ("Kepesertaan BPJS PBI dinonaktifkan tanpa pemberitahuan",
         "Kartu BPJS Kesehatan penerima bantuan iuran milik keluarga kami di Kelurahan {kel} "
         "tiba-tiba tidak aktif saat hendak berobat, padahal kondisi ekonomi kami tidak "
         "berubah."),
        ("Kartu BPJS Kesehatan tidak bisa dipakai di faskes {kec}",
         "Saat berobat di faskes tingkat pertama di {kec}, petugas menyatakan data kepesertaan "
         "kami tidak ditemukan sehingga kami harus membayar sebagai pasien umum."),
    ), ("Usulan sosialisasi reaktivasi BPJS PBI",
        "Mohon diadakan sosialisasi di kantor Kecamatan {kec} tentang cara mengaktifkan "
        "kembali kepesertaan BPJS PBI yang dinonaktifkan."),
        ("Cara mengaktifkan kembali BPJS PBI",
         "Mohon informasi syarat dan tempat pengurusan reaktivasi kepesertaan BPJS Kesehatan "
         "PBI di {wilayah}."),
        ("bpjs", "pbi", "jkn"), 5),
    201: _T("disdik", "kemendikdasmen", (
        ("Dugaan kecurangan zonasi PPDB di SMA Negeri {n} {kota}",
         "Anak kami tinggal di Kelurahan {kel}, kurang dari satu kilometer dari SMA Negeri {n} "
         "{kota}, tetapi tidak diterima lewat jalur zonasi, sementara peserta dari luar zona "
         "diterima."),
        ("Situs PPDB {wilayah} tidak bisa diakses",
         "Pada hari terakhir pendaftaran laman PPDB tidak dapat dibuka dari pagi hingga sore, "
         "sehingga banyak orang tua di {kec} tidak sempat mendaftar."),
        ("Pungutan daftar ulang di SMP Negeri {n} {kota}",
         "Saat daftar ulang kami diminta membayar uang seragam dan uang pembangunan jutaan "
         "rupiah tanpa kuitansi resmi."),
    ), ("Usulan posko PPDB di setiap kecamatan",
        "Kami mengusulkan agar masa pendaftaran PPDB diperpanjang dan disediakan posko "
        "bantuan di setiap kecamatan, termasuk {kec}."),
        ("Kuota jalur afirmasi SMA Negeri {n} {kota}",
         "Mohon informasi kuota jalur afirmasi dan jalur prestasi di SMA Negeri {n} {kota} "
         "tahun ajaran ini."),
        ("ppdb", "zonasi", "sekolah"), 4, 0.25, frozenset({6, 7})),
    202: _T("disdik", "kemendikdasmen", (
        ("Dugaan penyalahgunaan dana BOS di SD Negeri {n} {kota}",
         "Kami menduga dana BOS di SD Negeri {n} {kota} tidak digunakan sebagaimana mestinya; "
         "laporan penggunaannya tidak pernah ditempel di papan informasi sekolah."),
        ("Murid dipungut biaya buku padahal ada dana BOS",
         "Anak kami di sekolah dasar di Kecamatan {kec} diminta membeli buku LKS seharga "
         "ratusan ribu rupiah, padahal buku seharusnya dibiayai dana BOS."),
    ), ("Usulan keterbukaan laporan dana BOS",
        "Mohon setiap sekolah di {wilayah} wajib mengumumkan rincian penggunaan dana BOS "
        "kepada orang tua murid."),
        ("Rincian dana BOS SD Negeri {n} {kota}",
         "Mohon informasi besaran dana BOS yang diterima SD Negeri {n} {kota} dan "
         "peruntukannya."),
        ("dana-bos", "sekolah", "pungli"), 3, 0.6),
    203: _T("disdik", "kemendikdasmen", (
        ("Atap ruang kelas SD Negeri {n} {kota} nyaris roboh",
         "Atap dua ruang kelas di SD Negeri {n} {kota}, Kelurahan {kel}, sudah lapuk dan "
         "bocor setiap hujan. Murid terpaksa belajar bergantian di ruang guru."),
        ("Toilet SMP Negeri {n} {kota} rusak",
         "Toilet siswa di SMP Negeri {n} {kota} sudah {durasi} rusak, air tidak mengalir dan "
         "pintunya jebol."),
    ), ("Usulan ruang kelas baru di {kec}",
        "Jumlah murid di sekolah-sekolah Kecamatan {kec} terus bertambah; kami mengusulkan "
        "pembangunan ruang kelas baru."),
        ("Jadwal rehabilitasi SD Negeri {n} {kota}",
         "Mohon informasi apakah SD Negeri {n} {kota} termasuk sekolah yang direhabilitasi "
         "tahun ini."),
        ("sekolah", "ruang-kelas"), 3),
    301: _T("pubmtr", "kemenpu", (
        ("Jalan berlubang di {jalan}, {kel}",
         "Jalan berlubang di {jalan}, Kelurahan {kel}, Kecamatan {kec} sudah {durasi} tidak "
         "diperbaiki. Lubang sedalam kurang lebih 30 cm tergenang air saat hujan dan sudah "
         "beberapa kali membuat pengendara motor terjatuh."),
        ("{jalan} rusak parah dan membahayakan pengendara",
         "Aspal di {jalan} mengelupas sepanjang kurang lebih 500 meter. Pada malam hari jalan "
         "ini gelap sehingga lubang tidak terlihat."),
        ("Perbaikan {jalan} terbengkalai",
         "Pekerjaan perbaikan {jalan} berhenti {durasi} yang lalu; material dibiarkan "
         "menumpuk di bahu jalan dan menyebabkan kemacetan."),
    ), ("Usulan pengaspalan ulang {jalan}",
        "Warga Kelurahan {kel} mengusulkan pengaspalan ulang {jalan} yang menjadi akses "
        "utama menuju pasar dan sekolah."),
        ("Jadwal perbaikan {jalan}",
         "Mohon informasi kapan perbaikan {jalan} di Kecamatan {kec} dijadwalkan dan instansi "
         "mana yang berwenang atas ruas jalan tersebut."),
        ("jalan-rusak", "infrastruktur"), 16, 0.05),
    302: _T("pubmtr", "kemenpu", (
        ("Jembatan penghubung di {kel} rusak dan miring",
         "Jembatan yang menghubungkan Kelurahan {kel} dengan desa sebelah sudah miring dan "
         "beberapa papan lantainya patah. Anak sekolah melintas setiap hari."),
        ("Jembatan di {kec} hanya bisa dilalui motor",
         "Jembatan di Kecamatan {kec} hanya bisa dilalui sepeda motor sudah {durasi} karena "
         "pondasinya tergerus arus sungai."),
    ), ("Usulan jembatan permanen di {kel}",
        "Kami mengusulkan jembatan gantung di {kel} diganti jembatan beton agar dapat "
        "dilalui kendaraan roda empat."),
        ("Perkembangan pembangunan jembatan di {kec}",
         "Mohon informasi perkembangan pembangunan jembatan di Kecamatan {kec} yang pernah "
         "disurvei tahun lalu."),
        ("jembatan", "infrastruktur"), 3, 0.05),
    303: _T("psda", "kemenpu", (
        ("Banjir setiap hujan di {jalan}, {kel}",
         "Setiap hujan deras {jalan} di Kelurahan {kel} tergenang setinggi lutut orang "
         "dewasa. Saluran drainase tersumbat sedimen dan sampah sehingga air masuk ke rumah "
         "warga."),
        ("Saluran drainase di {kel} tertutup bangunan",
         "Saluran air di sepanjang {jalan} tertutup bangunan ruko sehingga air hujan meluap "
         "ke jalan dan rumah warga di {kec}."),
    ), ("Usulan normalisasi saluran di {kel}",
        "Mohon dilakukan normalisasi saluran drainase dan pembangunan kolam retensi di "
        "Kelurahan {kel} sebelum musim hujan."),
        ("Jadwal pengerukan drainase di {kec}",
         "Mohon informasi jadwal pengerukan saluran drainase di Kecamatan {kec}."),
        ("banjir", "drainase"), 9, 0.05),
    304: _T("perkim", "kemenpu", (
        ("Lampu jalan di {jalan} mati",
         "Lampu penerangan jalan umum di {jalan}, Kelurahan {kel}, sudah {durasi} padam. "
         "Jalan gelap dan rawan tindak kejahatan pada malam hari."),
        ("Tiang PJU di {jalan} miring",
         "Beberapa tiang PJU di {jalan} miring dan lampunya tidak menyala; warga khawatir "
         "tiang roboh saat angin kencang."),
    ), ("Usulan pemasangan PJU di {jalan}",
        "Warga {kel} mengusulkan pemasangan lampu penerangan jalan di {jalan} yang belum "
        "memiliki PJU sama sekali."),
        ("Prosedur permohonan PJU baru",
         "Mohon informasi cara mengajukan pemasangan lampu penerangan jalan umum baru di "
         "lingkungan kami di Kecamatan {kec}."),
        ("pju", "lampu-jalan"), 4, 0.03),
    401: _T("disdukcapil", "kemendagri", (
        ("KTP elektronik belum jadi setelah {durasi}",
         "Saya sudah melakukan perekaman KTP elektronik di Kecamatan {kec} {durasi} yang lalu "
         "tetapi sampai sekarang KTP belum dicetak dengan alasan blangko kosong."),
        ("Oknum meminta uang untuk percepatan cetak KTP-el",
         "Petugas di kantor Kecamatan {kec} meminta uang agar KTP elektronik bisa dicetak "
         "lebih cepat."),
    ), ("Usulan perekaman KTP-el keliling di {kec}",
        "Mohon diadakan perekaman KTP elektronik keliling untuk lansia dan penyandang "
        "disabilitas di Kecamatan {kec}."),
        ("Syarat penggantian KTP elektronik rusak",
         "Mohon informasi syarat penggantian KTP elektronik yang rusak dan apakah bisa diurus "
         "di kantor Kecamatan {kec}."),
        ("ktp-el", "adminduk"), 6, 0.2),
    402: _T("disdukcapil", "kemendagri", (
        ("Pengurusan Kartu Keluarga di {kec} berbelit",
         "Permohonan perubahan Kartu Keluarga yang kami ajukan melalui Kelurahan {kel} sudah "
         "{durasi} belum selesai, dan kami diminta bolak-balik melengkapi berkas yang sama."),
        ("Data Kartu Keluarga salah setelah pemutakhiran",
         "Setelah pemutakhiran data, nama anggota keluarga kami di Kartu Keluarga salah ketik "
         "sehingga anak kami tidak bisa mendaftar sekolah."),
    ), ("Usulan layanan Kartu Keluarga daring",
        "Kami mengusulkan agar perubahan Kartu Keluarga di {wilayah} dapat diajukan secara "
        "daring tanpa datang ke kantor dinas."),
        ("Syarat pisah Kartu Keluarga",
         "Mohon informasi syarat pisah Kartu Keluarga dan lama prosesnya di {wilayah}."),
        ("kartu-keluarga", "adminduk"), 4),
    403: _T("disdukcapil", "kemendagri", (
        ("Akta kelahiran anak belum terbit",
         "Kami mengajukan akta kelahiran anak melalui Kelurahan {kel} {durasi} yang lalu "
         "namun sampai sekarang belum terbit tanpa kejelasan."),
        ("Pungutan biaya akta kelahiran di {kel}",
         "Oknum di Kelurahan {kel} meminta biaya untuk pengurusan akta kelahiran, padahal "
         "layanan ini gratis."),
    ), ("Usulan layanan akta kelahiran di rumah sakit",
        "Mohon akta kelahiran dapat langsung diurus di {rs} saat bayi lahir."),
        ("Syarat akta kelahiran terlambat",
         "Mohon informasi syarat pengurusan akta kelahiran untuk anak yang berusia lebih dari "
         "satu tahun di {wilayah}."),
        ("akta-kelahiran", "adminduk"), 3, 0.2),
    501: _T("dpmptsp", "kemenpanrb", (
        ("Izin usaha di Mal Pelayanan Publik {kota} lambat",
         "Saya pelaku UMKM di Kelurahan {kel}. Permohonan izin usaha melalui OSS sudah "
         "{durasi} tertahan di verifikasi daerah tanpa keterangan."),
        ("Permohonan izin usaha mikro ditolak tanpa alasan",
         "Permohonan izin usaha mikro kami di {wilayah} ditolak tanpa penjelasan, padahal "
         "seluruh persyaratan sudah diunggah."),
    ), ("Usulan pendampingan OSS bagi UMKM di {kec}",
        "Kami mengusulkan pendampingan pengurusan NIB melalui OSS bagi pelaku UMKM di "
        "Kecamatan {kec}."),
        ("Syarat izin usaha warung makan",
         "Mohon informasi izin apa saja yang diperlukan untuk membuka warung makan di "
         "{wilayah}."),
        ("izin-usaha", "umkm", "oss"), 2),
    502: _T("dpmptsp", "kemenpu", (
        ("Bangunan tanpa PBG berdiri di {jalan}",
         "Sebuah ruko sedang dibangun di {jalan}, Kelurahan {kel}, menutup saluran air dan "
         "diduga belum memiliki Persetujuan Bangunan Gedung."),
        ("Proses PBG rumah tinggal di {wilayah} lama",
         "Permohonan PBG rumah tinggal kami sudah {durasi} belum diproses padahal berkas "
         "sudah lengkap di SIMBG."),
    ), ("Usulan percepatan layanan PBG",
        "Mohon layanan PBG untuk rumah tinggal sederhana di {wilayah} dipercepat dan biayanya "
        "diumumkan secara terbuka."),
        ("Biaya retribusi PBG rumah tinggal",
         "Mohon informasi besaran retribusi PBG untuk rumah tinggal di {wilayah}."),
        ("pbg", "bangunan"), 2, 0.1),
    601: _T("dlhp", "kemenpanrb", (
        ("Tumpukan sampah di {jalan} tidak diangkut",
         "Sampah di TPS {jalan}, Kelurahan {kel}, sudah {durasi} tidak diangkut. Baunya "
         "menyengat dan sampah meluber ke badan jalan."),
        ("Tidak ada TPS resmi di {kel}",
         "Warga membuang sampah di pinggir {jalan} karena tidak ada TPS resmi di Kelurahan "
         "{kel}."),
    ), ("Usulan tambahan armada sampah di {kec}",
        "Kami mengusulkan penambahan armada pengangkut sampah dan jadwal angkut harian di "
        "Kecamatan {kec}."),
        ("Jadwal pengangkutan sampah di {kel}",
         "Mohon informasi jadwal pengangkutan sampah rumah tangga di Kelurahan {kel}."),
        ("sampah", "kebersihan"), 8, 0.03),
    602: _T("dlhp", "kemenpanrb", (
        ("Limbah dibuang ke Sungai Musi di {kec}",
         "Warga di tepian Sungai Musi, Kelurahan {kel}, melihat cairan hitam keluar dari "
         "saluran pembuangan pabrik dan ikan-ikan mati mengapung."),
        ("Air sungai di {kel} berubah warna dan berbau",
         "Sudah {durasi} air sungai di sekitar {kel} berbau menyengat; warga yang mandi di "
         "sungai mengalami gatal-gatal."),
    ), ("Usulan pemantauan kualitas air Sungai Musi",
        "Mohon dilakukan pemantauan kualitas air Sungai Musi secara berkala dan hasilnya "
        "diumumkan kepada warga {kec}."),
        ("Hasil uji kualitas air Sungai Musi",
         "Mohon informasi hasil uji kualitas air Sungai Musi di sekitar Kecamatan {kec}."),
        ("sungai-musi", "limbah", "lingkungan"), 2, 0.3),
    603: _T("bpbd", "kemenpanrb", (
        ("Kebakaran lahan di {kec} menimbulkan kabut asap",
         "Sudah {durasi} terjadi kebakaran lahan gambut di Kecamatan {kec}. Asap tebal masuk "
         "ke permukiman dan anak-anak mulai batuk."),
        ("Pembakaran lahan untuk kebun di {kel}",
         "Ada pembukaan kebun dengan cara membakar lahan di dekat Kelurahan {kel}; api "
         "mendekati rumah warga."),
    ), ("Usulan posko siaga karhutla di {kec}",
        "Kami mengusulkan posko siaga kebakaran hutan dan lahan serta sumur bor di Kecamatan "
        "{kec} sebelum kemarau."),
        ("Status siaga karhutla di {wilayah}",
         "Mohon informasi status siaga darurat kebakaran hutan dan lahan di {wilayah}."),
        ("karhutla", "kabut-asap"), 2, 0.2, frozenset({8, 9, 10})),
    701: _T("dinsos", "kemenpanrb", (
        ("Bantuan sosial tidak tepat sasaran di {kel}",
         "Di Kelurahan {kel} ada penerima bantuan sosial yang tergolong mampu, sementara "
         "warga miskin dan lansia tidak terdaftar di DTKS."),
        ("Penyaluran BLT di {kel} dipotong",
         "Bantuan langsung tunai yang diterima warga Kelurahan {kel} dipotong dengan alasan "
         "uang administrasi."),
    ), ("Usulan pemutakhiran DTKS di {kec}",
        "Mohon dilakukan pendataan ulang DTKS di Kecamatan {kec} dengan melibatkan RT dan RW."),
        ("Cara mendaftar DTKS",
         "Mohon informasi cara mendaftarkan keluarga kami ke DTKS di {wilayah}."),
        ("bansos", "dtks"), 4, 0.4),
    702: _T("dinsos", "kemenpanrb", (
        ("Dana PKH tidak cair {durasi}",
         "Kami penerima Program Keluarga Harapan di Kelurahan {kel}, tetapi dana PKH tidak "
         "masuk ke rekening sudah {durasi} tanpa penjelasan."),
        ("Dugaan potongan dana PKH oleh oknum",
         "Penerima PKH di Kecamatan {kec} diminta menyerahkan sebagian dana bantuan kepada "
         "oknum yang mengaku pendamping."),
    ), ("Usulan jadwal penyaluran PKH yang pasti",
        "Mohon jadwal penyaluran PKH diumumkan di kantor Kelurahan {kel} agar penerima tidak "
        "bolak-balik ke bank."),
        ("Syarat menjadi peserta PKH",
         "Mohon informasi syarat menjadi peserta Program Keluarga Harapan di {wilayah}."),
        ("pkh", "bansos"), 3, 0.4),
    801: _T("dishub", "kemenpanrb", (
        ("Angkutan umum jurusan {kec} ngetem sembarangan",
         "Angkutan umum jurusan {kec} sering berhenti lama di {jalan} dan menyebabkan "
         "kemacetan, terutama pada jam berangkat sekolah."),
        ("Tarif angkutan umum di {wilayah} melebihi ketentuan",
         "Sopir angkutan umum rute {kec} meminta tarif di atas tarif resmi yang ditetapkan."),
    ), ("Usulan halte baru di {jalan}",
        "Kami mengusulkan pembangunan halte di {jalan} karena penumpang menunggu di bahu "
        "jalan."),
        ("Tarif resmi angkutan umum {wilayah}",
         "Mohon informasi tarif resmi angkutan umum dalam kota di {wilayah}."),
        ("angkutan-umum", "dishub"), 2),
    802: _T("dishub", "kemenpanrb", (
        ("Parkir liar di {jalan} menyebabkan macet",
         "Kendaraan parkir di kedua sisi {jalan} sehingga jalan hanya bisa dilalui satu "
         "mobil dan macet setiap sore."),
        ("Juru parkir liar memungut tarif tinggi di {jalan}",
         "Juru parkir tanpa rompi resmi di {jalan} memungut tarif jauh di atas ketentuan dan "
         "tidak memberi karcis."),
    ), ("Usulan kantong parkir di {kel}",
        "Mohon disediakan kantong parkir resmi di sekitar pasar Kelurahan {kel}."),
        ("Titik parkir resmi di {jalan}",
         "Mohon informasi apakah {jalan} termasuk titik parkir resmi dan berapa tarifnya."),
        ("parkir", "dishub"), 3, 0.15),
}

_OPENINGS: Mapping[ReportKind, tuple[str, ...]] = {
    ReportKind.COMPLAINT: ("Dengan hormat,", "Selamat pagi Bapak/Ibu admin.",
                           "Assalamualaikum, izin melapor.", "Kepada instansi terkait,", ""),
    ReportKind.ASPIRATION: ("Dengan hormat, kami ingin menyampaikan aspirasi warga.",
                            "Selamat siang Bapak/Ibu.", ""),
    ReportKind.INFORMATION_REQUEST: ("Selamat siang, mohon izin bertanya.", "Dengan hormat,", ""),
}
_CLOSINGS: Mapping[ReportKind, tuple[str, ...]] = {
    ReportKind.COMPLAINT: ("Mohon segera ditindaklanjuti. Terima kasih.",
                           "Kami berharap ada tindakan nyata dari pemerintah.",
                           "Foto kondisi di lapangan kami lampirkan.", "Mohon perhatiannya.", ""),
    ReportKind.ASPIRATION: ("Semoga dapat menjadi pertimbangan. Terima kasih.", ""),
    ReportKind.INFORMATION_REQUEST: ("Atas informasinya kami ucapkan terima kasih.", ""),
}
_DURATIONS = ("sepekan", "dua minggu", "satu bulan", "hampir tiga bulan", "lebih dari enam bulan")
_MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
           "September", "Oktober", "November", "Desember")
_FOLLOW_UPS = (
    "Laporan telah kami terima dan diteruskan ke bidang teknis. Peninjauan lapangan "
    "dijadwalkan pada {tanggal}.",
    "Tim telah meninjau lokasi. Penanganan dijadwalkan dalam anggaran tahun berjalan.",
    "Terima kasih atas laporannya. Petugas telah menindaklanjuti dan kondisi di lapangan "
    "sudah diperbaiki.",
    "Kami telah berkoordinasi dengan pihak kecamatan dan kelurahan setempat untuk penanganan "
    "lebih lanjut.",
    "Mohon pelapor melengkapi foto dan titik lokasi yang lebih rinci agar dapat kami tindak "
    "lanjuti.",
    "Permasalahan telah diselesaikan. Apabila masih ada kendala, silakan menanggapi laporan ini.",
)
_POSTPONE_NOTES = ("Mohon pelapor melengkapi lokasi kejadian.",
                   "Mohon lampirkan foto pendukung.", "Kronologi belum jelas; mohon dilengkapi.")
_REOPEN_NOTES = ("Pelapor menyatakan permasalahan belum selesai.",
                 "Menurut tanggapan pelapor kondisi di lapangan belum berubah.")
_ARCHIVE: Mapping[ArchiveReason, tuple[int, str]] = {
    ArchiveReason.UNCLEAR: (30, "Isi laporan tidak jelas dan tidak dilengkapi pelapor."),
    ArchiveReason.TOO_GENERAL: (20, "Laporan terlalu umum, tanpa lokasi atau waktu kejadian."),
    ArchiveReason.NOT_PUBLIC_SERVICE: (20, "Laporan bukan tentang pelayanan publik."),
    ArchiveReason.SPAM: (10, "Laporan berisi promosi."),
    ArchiveReason.DUPLICATE: (20, "Sama dengan laporan lain yang sedang ditangani."),
}

_MEN = ("Ahmad", "Muhammad", "Rizky", "Dedi", "Andi", "Budi", "Hendra", "Agus", "Fajar", "Arif",
        "Doni", "Iwan", "Taufik", "Irfan", "Bayu", "Rudi", "Hasan", "Zulkifli", "Ikhsan", "Eko")
_WOMEN = ("Siti", "Dewi", "Nur", "Ayu", "Rina", "Eka", "Putri", "Indah", "Wulan", "Fitri",
          "Yuliana", "Maya", "Ratna", "Lina", "Sri", "Novita", "Desi", "Rahma", "Nurul", "Yeni")
_FAMILY = ("Pratama", "Saputra", "Wijaya", "Hidayat", "Susanto", "Setiawan", "Kurniawan",
           "Lestari", "Handayani", "Rahmawati", "Permata", "Fitriani", "Syahputra", "Gunawan",
           "Firmansyah", "Ramadhan", "Nugroho", "Anggraini", "Maharani", "Marlina", "Safitri")
_MAIL_DOMAINS = ("gmail.com", "gmail.com", "gmail.com", "yahoo.co.id", "yahoo.com", "ymail.com")
_PHONE_PREFIXES = ("11", "12", "13", "21", "22", "52", "53", "77", "78", "81", "82", "95", "96")

# Hour-of-day weights (WIB) of submissions: citizens write in the day and evening.
_HOURS = (1, 1, 1, 1, 2, 4, 6, 8, 10, 11, 11, 10, 9, 9, 9, 8, 7, 7, 8, 9, 8, 6, 4, 2)
_WIB = timedelta(hours=7)

_S, _V = ReportState, Verb
# How likely each move is from each state, and (None) that nothing more happens (a stall).
# Which moves a state allows is the life cycle's (``hub.domain.core.allowed_verbs``); a
# move it allows that is not weighted here is never played.
_WEIGHTS: Mapping[ReportState, Mapping[Verb | None, float]] = {
    _S.SUBMITTED: {_V.VERIFY: 0.79, _V.POSTPONE: 0.10, _V.ARCHIVE: 0.06, None: 0.05},
    _S.POSTPONED: {_V.VERIFY: 0.45, _V.ARCHIVE: 0.30, None: 0.25},
    _S.VERIFIED: {_V.DISPOSE: 0.94, _V.ARCHIVE: 0.02, None: 0.04},
    _S.DISPOSED: {_V.FOLLOW_UP: 0.78, _V.DISPOSE: 0.12, None: 0.10},
    _S.IN_FOLLOW_UP: {_V.COMPLETE: 0.62, _V.FOLLOW_UP: 0.18, _V.DISPOSE: 0.04, None: 0.16},
    _S.COMPLETED: {_V.REOPEN: 0.04, None: 0.96},
}


def _next(state: ReportState) -> tuple[tuple[Verb | None, float], ...]:
    """The moves the life cycle allows from ``state`` with their weights, and the stall."""
    weights = _WEIGHTS.get(state, {})
    unknown = set(weights) - {None, *allowed_verbs(state)}
    if unknown:
        raise SeedError(f"the seed weighs moves the life cycle forbids from {state.value}: "
                        f"{sorted(v.value for v in unknown if v is not None)}")  # fmt: skip
    moves = tuple((verb, weights.get(verb, 0.0)) for verb in allowed_verbs(state))
    return (*moves, (None, weights.get(None, 1.0 if not moves else 0.0)))


# Mean delay in hours before each verb (exponentially distributed, at least five minutes).
_DELAY_HOURS: Mapping[Verb, float] = {
    _V.VERIFY: 30, _V.POSTPONE: 20, _V.ARCHIVE: 40, _V.DISPOSE: 24, _V.FOLLOW_UP: 96,
    _V.COMPLETE: 120, _V.REOPEN: 72,
}
_MAX_HISTORY = 14
_MAX_DISPOSITIONS = 4
_MAX_FOLLOW_UPS = 4
_CHUNK = 5_000

_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "reporters": ("report_id", "name", "nik", "phone", "email"),
    "dispositions": ("report_id", "seq", "from_institution", "to_institution", "note",
                     "actor_node", "at"),
    "follow_ups": ("report_id", "institution_code", "content", "actor_node", "at"),
    "external_refs": ("node_code", "external_id", "report_id"),
}
"""Tables that hang off a report, in load order, with the columns COPY fills (reports
and their history go first, through ``hub.store.effects``)."""
# fmt: on


async def seed_reports(
    conn: Connection,
    count: int,
    *,
    seed: int = 1608,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Loads ``count`` reports into an empty, migrated index; returns how many it wrote.

    Submissions spread over the two years before ``now`` (default: the current
    time, so pass ``now`` for identical data across runs). Everything is one
    transaction: a failure leaves the index empty. ``progress`` is called with
    the number of reports generated so far after each chunk. No outbox rows
    are written: this is an initial load, not a change anyone must hear of.
    """
    if count < 0:
        raise ValueError(f"count must not be negative, got {count}")
    moment = (now or datetime.now(UTC)).replace(microsecond=0)
    if moment.tzinfo is None:
        raise ValueError("now must carry a time zone")
    existing = await seeded_count(conn)
    if existing:
        # Seeded ids and tracking ids would collide with an earlier load.
        raise SeedError(f"the index already holds {existing} reports; seed an empty one")
    builder = _Builder(_Dice(seed), moment, count)
    times = builder.submission_times(count)
    chunks = [times[start : start + _CHUNK] for start in range(0, count, _CHUNK)]
    done = 0
    next_batch: asyncio.Task[_Batch] | None = None
    try:
        async with conn.transaction():
            for index, chunk in enumerate(chunks):
                batch = await next_batch if next_batch else builder.batch(chunk)
                next_batch = None
                if index + 1 < len(chunks):
                    # PostgreSQL checks foreign keys on the other core while the next chunk
                    # is drawn here; chunks are still drawn one after another, in order.
                    next_batch = asyncio.create_task(
                        asyncio.to_thread(builder.batch, chunks[index + 1])
                    )
                await copy_reports(conn, batch.reports)
                await copy_history(conn, batch.history)
                for table, columns in _COLUMNS.items():
                    rows = batch.rows[table]
                    if rows:
                        await conn.copy_records_to_table(table, records=rows, columns=columns)
                done += len(chunk)
                if progress is not None:
                    progress(done)
            # No outbox rows, so the roll-ups' projection hears of these reports here.
            await Session.on(conn).execute("ministry_pending_all")
    finally:
        if next_batch is not None:
            # A failed COPY must not leave a drawing thread behind.
            await asyncio.wait([next_batch])
    return count


async def seeded_count(conn: Connection) -> int:
    """How many reports the index holds (seeded or not)."""
    # No filter, counted as a viewer who sees every report.
    no_filter: tuple[object, ...] = (*(None,) * 7, True, [])
    total: int = await Session.on(conn).fetchval("reports_count", *no_filter)
    return total


class _Dice(random.Random):
    """``random.Random`` with cheaper uniform picks: the seed draws millions of them."""

    def pick(self, seq: Sequence[T]) -> T:
        return seq[int(self.random() * len(seq))]

    def below(self, n: int) -> int:
        return int(self.random() * n)


class _Weighted(Generic[T]):
    """A weighted choice whose cumulative weights are summed once, not on every draw."""

    __slots__ = ("_cum", "_total", "_values")

    def __init__(self, pairs: Iterable[tuple[T, float]]) -> None:
        kept = [(value, weight) for value, weight in pairs if weight > 0]
        self._values = tuple(value for value, _ in kept)
        self._cum = tuple(itertools.accumulate(weight for _, weight in kept))
        self._total = self._cum[-1]

    def draw(self, rng: _Dice) -> T:
        # As random.choices does it, minus recomputing the sums.
        return self._values[
            bisect.bisect(self._cum, rng.random() * self._total, 0, len(self._cum) - 1)
        ]


@dataclass(slots=True)
class _Batch:
    """Rows of one chunk, per table, in COPY column order."""

    reports: list[NewReport] = field(default_factory=list)
    history: list[Entry] = field(default_factory=list)
    rows: dict[str, list[tuple[object, ...]]] = field(
        default_factory=lambda: {table: [] for table in _COLUMNS}
    )


@dataclass(slots=True)
class _Walk:
    """The state of one report while its life cycle is played."""

    region: str
    origin: str
    at: datetime
    current: Current
    """The report as the domain core sees it."""
    history: list[Entry]
    links: int = 0
    follow_ups: int = 0
    reopened: bool = False
    archive_reason: str | None = None
    ref_nodes: set[str] = field(default_factory=set)

    @property
    def report_id(self) -> uuid.UUID:
        return self.current.id

    @property
    def state(self) -> ReportState:
        return self.current.state

    @property
    def institution(self) -> str:
        return self.current.institution_code


class _Builder:
    """Draws reports one by one from a single random stream."""

    def __init__(self, rng: _Dice, now: datetime, count: int) -> None:
        self.rng = rng
        self.now = now
        self.calendar = WorkingCalendar.indonesia(range(now.year - 3, now.year + 2))
        rule = rule_for(
            SLA_RULES, CURRENT_SLA_VERSION, SlaStage.AUTO_CLOSE, ReportKind.COMPLAINT, None
        )
        assert rule is not None, "the SLA table has an auto-close rule"
        self.auto_close_days = rule.working_days
        self.node_of = {i.code: i.node_code for i in INSTITUTIONS}
        self.regions = [*(r.code for r in REGENCIES), PROVINCE_CODE]
        self.region = _Weighted(
            [
                *((r.code, _PLACES[r.code].weight) for r in REGENCIES),
                (PROVINCE_CODE, _PROVINCE_WEIGHT),
            ]
        )
        self.hour = _Weighted(enumerate(_HOURS))
        self.kind = _Weighted(
            (
                (ReportKind.ASPIRATION, 18),
                (ReportKind.COMPLAINT, 70),
                (ReportKind.INFORMATION_REQUEST, 12),
            )
        )
        self.moves = {state: _next(state) for state in ReportState}
        self.next_verb = {state: _Weighted(options) for state, options in self.moves.items()}
        self.archive = _Weighted((reason, weight) for reason, (weight, _) in _ARCHIVE.items())
        self.channel = {
            NATIONAL_NODE: _Weighted(
                (
                    (Channel.WEB, 40),
                    (Channel.MOBILE_APP, 35),
                    (Channel.SMS_1708, 15),
                    (Channel.TWITTER, 10),
                )
            ),
            PROVINCE_CODE: _Weighted(
                (
                    (Channel.INTEGRATED_APP, 50),
                    (Channel.WEB, 25),
                    (Channel.FACE_TO_FACE, 15),
                    (Channel.TWITTER, 10),
                )
            ),
            # A regency's own node: its integrated app, or its front desk.
            "": _Weighted(
                ((Channel.INTEGRATED_APP, 70), (Channel.FACE_TO_FACE, 20), (Channel.WEB, 10))
            ),
        }
        self.kinds = {r.code: r.type for r in REGENCIES}
        self.names = {r.code: r.name for r in REGENCIES}
        leaves = [t.id for t in TOPICS if t.parent_id is not None]
        missing = set(leaves) ^ set(_TEXTS)
        if missing:
            raise SeedError(f"topics without seed texts (or texts without topics): {missing}")
        # One table per (on the Musi?, month): seasonal topics swell in their months.
        self.topic = {
            (musi, month): _Weighted(
                (
                    topic,
                    0
                    if topic == 602 and not musi
                    else _TEXTS[topic].weight * (4 if month in _TEXTS[topic].months else 1),
                )
                for topic in leaves
            )
            for musi in (False, True)
            for month in range(1, 13)
        }
        self.ref_seq: dict[str, int] = {}
        # LAPOR! numbers every report of the country, so ours are a sparse subsequence;
        # the gaps shrink for big loads so the ids stay seven digits long.
        self.lapor_id = 1_480_000
        self.lapor_step = max(1, min(60, 30_000_000 // max(1, count)))

    def submission_times(self, count: int) -> list[datetime]:
        """Submission moments over the last two years, oldest first, busier lately."""
        local_start = (self.now + _WIB - timedelta(days=730)).replace(hour=0, minute=0, second=0)
        midnight = local_start - _WIB  # the UTC instant of that WIB midnight
        times = []
        for _ in range(count):
            # u ** 0.8 leans towards 1: more reports lately, as adoption grows.
            day = int(729 * self.rng.random() ** 0.8)
            hour = self.hour.draw(self.rng)
            offset = timedelta(days=day, hours=hour, seconds=self.rng.below(3600))
            times.append(midnight + offset)
        times.sort()
        return [min(t, self.now - timedelta(minutes=10)) for t in times]

    def batch(self, times: Sequence[datetime]) -> _Batch:
        """Draws the reports submitted at ``times`` into a fresh batch."""
        batch = _Batch()
        for submitted_at in times:
            self.report(submitted_at, batch)
        return batch

    def report(self, submitted_at: datetime, batch: _Batch) -> None:
        """Draws one report with everything that hangs off it into ``batch``."""
        rng = self.rng
        report_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        region = self.region.draw(rng)
        place_region = region if region != PROVINCE_CODE else rng.pick(self.regions[:-1])
        place = _PLACES[place_region]
        topic = self.topic[region in _MUSI_REGIONS, (submitted_at + _WIB).month].draw(rng)
        text = _TEXTS[topic]
        kind = self.kind.draw(rng)
        sub_kind = None
        if kind is ReportKind.COMPLAINT:
            supervisory = rng.random() < text.supervisory
            sub_kind = (
                ComplaintSubKind.SUPERVISORY if supervisory else ComplaintSubKind.NON_SUPERVISORY
            )
        origin = self._origin(region)
        channel = self.channel.get(origin, self.channel[""]).draw(rng)
        words = self._words(place_region, place)
        title, body = self._title_body(text, kind)
        content = " ".join(
            part for part in (rng.pick(_OPENINGS[kind]), body, rng.pick(_CLOSINGS[kind])) if part
        ).format(**words)
        location, lat, lon = self._location(place, words)
        anonymous = rng.random() < 0.10
        confidential = rng.random() < (0.20 if anonymous else 0.033)
        tags = self._tags(text, place.town)
        local_day = (submitted_at + _WIB).date()
        incident = local_day - timedelta(days=rng.below(21)) if rng.random() < 0.7 else None
        synced = origin == NATIONAL_NODE or rng.random() < 0.85
        command = Submit(
            kind=kind, title=title.format(**words)[:200], content=content[:10_000],
            region_code=region, topic_id=topic, channel=channel, complaint_sub_kind=sub_kind,
            incident_date=incident, location=location, latitude=lat, longitude=lon,
            tags=tuple(tags), privacy=PrivacyFlags(anonymous, confidential),
        )  # fmt: skip
        actor = Actor(origin, self._submit_role(channel, synced), everywhere=True)
        try:
            made = submit(command, actor, report_id, submitted_at, Known.everything())
        except HubError as error:
            raise SeedError(f"seed submission: {error.message}") from error
        walk = _Walk(region, origin, submitted_at, made.current, [made.entry])
        if synced:
            external_id = self._external_id(origin, submitted_at)
            batch.rows["external_refs"].append((origin, external_id, report_id))
            walk.ref_nodes.add(origin)
        self._play(walk, topic, batch)
        batch.reports.append(made.report.after(walk.current, walk.archive_reason, walk.at))
        batch.history.extend(walk.history)
        if rng.random() < 0.88:
            batch.rows["reporters"].append(self._reporter(report_id, region, channel))

    def _origin(self, region: str) -> str:
        roll = self.rng.random()
        if region == PROVINCE_CODE:
            return NATIONAL_NODE if roll < 0.55 else PROVINCE_CODE
        return NATIONAL_NODE if roll < 0.45 else region if roll < 0.87 else PROVINCE_CODE

    @staticmethod
    def _submit_role(channel: Channel, synced: bool) -> ActorRole:
        if channel is Channel.FACE_TO_FACE:
            return ActorRole.INSTITUTION_ADMIN
        # A report synced from a node's own system arrives through its service account.
        return ActorRole.NODE_SYSTEM if synced else ActorRole.REPORTER

    def _words(self, region: str, place: _Place) -> dict[str, str]:
        rng = self.rng
        prefix = "Kota" if self.kinds[region] is RegionType.KOTA else "Kabupaten"
        return {
            "jalan": rng.pick(place.jalan),
            "kel": rng.pick(place.kelurahan),
            "kec": rng.pick(place.kecamatan),
            "kota": place.town,
            "wilayah": f"{prefix} {self.names[region]}",
            "rs": place.hospital,
            "n": str(1 + rng.below(25)),
            "jam": rng.pick(("dua", "tiga", "empat")),
            "durasi": rng.pick(_DURATIONS),
        }

    def _title_body(self, text: _Text, kind: ReportKind) -> tuple[str, str]:
        if kind is ReportKind.ASPIRATION:
            return text.aspiration
        if kind is ReportKind.INFORMATION_REQUEST:
            return text.information
        return self.rng.pick(text.complaints)

    def _location(
        self, place: _Place, words: Mapping[str, str]
    ) -> tuple[str | None, float | None, float | None]:
        rng = self.rng
        if rng.random() < 0.15:
            return None, None, None
        location = f"{words['jalan']}, Kel. {words['kel']}, Kec. {words['kec']}, {words['wilayah']}"
        if rng.random() < 0.4:
            return location, None, None
        lat = round(place.centre[0] + rng.uniform(-0.08, 0.08), 6)
        lon = round(place.centre[1] + rng.uniform(-0.08, 0.08), 6)
        return location, lat, lon

    def _tags(self, text: _Text, town: str) -> list[str]:
        tags = self.rng.sample(text.tags, k=self.rng.below(len(text.tags) + 1))
        if self.rng.random() < 0.3:
            tags.append(town.lower().replace(" ", "-"))
        return tags

    def _play(self, walk: _Walk, topic: int, batch: _Batch) -> None:
        """Walks the life cycle from SUBMITTED until a stall, a final state or now."""
        rng = self.rng
        last: Verb | None = None
        while len(walk.history) < _MAX_HISTORY:
            capped = (
                walk.links >= _MAX_DISPOSITIONS
                or walk.follow_ups >= _MAX_FOLLOW_UPS
                or walk.reopened
            )
            if capped:
                options = _Weighted(
                    (verb, weight)
                    for verb, weight in self.moves[walk.state]
                    if not (verb is Verb.DISPOSE and walk.links >= _MAX_DISPOSITIONS)
                    and not (verb is Verb.FOLLOW_UP and walk.follow_ups >= _MAX_FOLLOW_UPS)
                    and not (verb is Verb.REOPEN and walk.reopened)
                )
                verb = options.draw(rng)
            else:
                verb = self.next_verb[walk.state].draw(rng)
            if verb is None:
                self._close_if_quiet(walk, topic, batch, last)
                return
            auto_close = verb is Verb.COMPLETE and rng.random() < 0.35
            if auto_close:
                # Ten working days without a reply from the reporter, about two weeks.
                delay = timedelta(days=14, minutes=rng.below(600))
            else:
                mean = _DELAY_HOURS[verb] * (4 if walk.state is ReportState.POSTPONED else 1)
                delay = timedelta(seconds=max(300, int(rng.expovariate(1 / (mean * 3600)))))
            if walk.at + delay >= self.now:
                self._close_if_quiet(walk, topic, batch, last)
                return
            walk.at += delay
            self._apply(walk, verb, topic, batch, auto_close)
            last = verb

    def _close_if_quiet(self, walk: _Walk, topic: int, batch: _Batch, last: Verb | None) -> None:
        """A walk that stops right after a follow-up is closed as the hub's auto-close job
        would have closed it, just after its due day; so the index holds no report the
        job still owes a close (the job would otherwise close them all at the first
        start, and every node would be sent the news of old reports)."""
        if walk.state is not ReportState.IN_FOLLOW_UP or last is not Verb.FOLLOW_UP:
            return
        closes = self.calendar.due_at(walk.at, self.auto_close_days) + timedelta(minutes=5)
        if closes >= self.now:
            return
        walk.at = closes
        self._apply(walk, Verb.COMPLETE, topic, batch, True)

    def _apply(self, walk: _Walk, verb: Verb, topic: int, batch: _Batch, auto: bool) -> None:
        rng = self.rng
        rid = walk.report_id
        handler = self.node_of[walk.institution]
        # Whoever screens reports at the node they came in through.
        national = walk.origin == NATIONAL_NODE
        screener = ActorRole.NATIONAL_ADMIN if national else ActorRole.INSTITUTION_ADMIN
        command: Transition
        match verb:
            case Verb.VERIFY:
                command, role, node = Verify(rid), screener, walk.origin
            case Verb.POSTPONE:
                command = Postpone(rid, rng.pick(_POSTPONE_NOTES))
                role, node = screener, walk.origin
            case Verb.ARCHIVE:
                # A postponed report is archived because its reporter never completed it.
                reason = (
                    ArchiveReason.UNCLEAR
                    if walk.state is ReportState.POSTPONED
                    else self.archive.draw(rng)
                )
                command = Archive(rid, reason, _ARCHIVE[reason][1])
                role, node = screener, walk.origin
            case Verb.DISPOSE:
                first = walk.links == 0
                target = self._first_target(walk, topic) if first else self._redirect(walk, topic)
                note = (
                    "Mohon ditindaklanjuti sesuai kewenangan."
                    if first
                    else "Bukan wewenang kami; didisposisikan ulang ke instansi yang berwenang."
                )
                command = Dispose(rid, target, note)
                node, role = (
                    (walk.origin, screener) if first else (handler, ActorRole.INSTITUTION_ADMIN)
                )
            case Verb.FOLLOW_UP:
                due = (walk.at + _WIB + timedelta(days=3)).date()
                command = FollowUp(rid, rng.pick(_FOLLOW_UPS).format(tanggal=_tanggal(due)))
                role, node = ActorRole.LIAISON_ADMIN, handler
            case Verb.COMPLETE:
                if auto:
                    command, role = Complete(rid, AUTO_CLOSE_NOTE), ActorRole.SYSTEM
                else:
                    command, role = Complete(rid), ActorRole.INSTITUTION_ADMIN
                node = handler
            case Verb.REOPEN:
                by_reporter = rng.random() < 0.7
                command = Reopen(rid, rng.pick(_REOPEN_NOTES))
                role, node = (ActorRole.REPORTER if by_reporter else screener), walk.origin
            case Verb.SUBMIT:  # pragma: no cover - recorded before the walk starts
                raise SeedError("SUBMIT is not a transition")
        change = self._transition(walk, command, role, node)
        if change.disposition is not None:
            link = change.disposition
            walk.links += 1
            batch.rows["dispositions"].append(
                (rid, link.seq, link.from_institution, link.to_institution, link.note, node,
                 walk.at)
            )  # fmt: skip
            target_node = self.node_of[link.to_institution]
            fresh = target_node not in walk.ref_nodes and target_node != NATIONAL_NODE
            if fresh and rng.random() < 0.3:
                # The receiving node's own system gives the report an id of its own.
                walk.ref_nodes.add(target_node)
                batch.rows["external_refs"].append(
                    (target_node, self._external_id(target_node, walk.at), rid)
                )
        if change.follow_up is not None:
            walk.follow_ups += 1
            batch.rows["follow_ups"].append(
                (rid, change.institution_code, change.follow_up, node, walk.at)
            )
        if verb is Verb.REOPEN:
            walk.reopened = True
        if change.archive_reason is not None:
            walk.archive_reason = change.archive_reason

    def _transition(self, walk: _Walk, command: Transition, role: ActorRole, node: str) -> Change:
        """The change ``command`` makes, decided by the domain core as the hub would."""
        current, actor = walk.current, Actor(node, role, everywhere=True)
        try:
            change = decide(current, command, actor, current.version)
        except HubError as error:
            raise SeedError(f"seed walk: {error.message}") from error
        walk.history.append(current.entry(change, actor, walk.at))
        walk.current = current.after(change)
        return change

    def _first_target(self, walk: _Walk, topic: int) -> str:
        text = _TEXTS[topic]
        roll = self.rng.random()
        if walk.region != PROVINCE_CODE and roll < 0.10:
            # Kab A → kab B: the place is across the border, or the road is theirs.
            return self._other_regency(walk.region)
        if roll < 0.18:
            return f"kl-{text.ministry}"
        return f"opd-16-{text.opd}"

    def _redirect(self, walk: _Walk, topic: int) -> str:
        """A re-disposition (bukan wewenang): back home, to another OPD or up a level."""
        text = _TEXTS[topic]
        home = default_institution(walk.region)
        other_opd = self.rng.pick([t.opd for t in _TEXTS.values() if t.opd != text.opd])
        candidates = (
            (home, 5),
            (f"opd-16-{text.opd}", 3),
            (f"opd-16-{other_opd}", 1),
            (f"kl-{text.ministry}", 2),
        )
        return _Weighted(c for c in candidates if c[0] != walk.institution).draw(self.rng)

    def _other_regency(self, region: str) -> str:
        return f"pemda-{self.rng.pick([r for r in self.regions[:-1] if r != region])}"

    def _external_id(self, node: str, at: datetime) -> str:
        """A tracking id in the shape the node's system uses, unique per node."""
        seq = self.ref_seq.get(node, 0) + 1
        self.ref_seq[node] = seq
        if node == NATIONAL_NODE:
            self.lapor_id += 1 + self.rng.below(self.lapor_step)
            return str(self.lapor_id)
        local = at + _WIB
        shape = _PROVINCE_REF_FORMAT if node == PROVINCE_CODE else _PLACES[node].ref_format
        return shape.format(year=local.year, month=local.month, seq=seq)

    def _reporter(self, report_id: uuid.UUID, region: str, channel: Channel) -> tuple[object, ...]:
        rng = self.rng
        woman = rng.random() < 0.45
        first = rng.pick(_WOMEN if woman else _MEN)
        family = rng.pick(_FAMILY)
        name = f"{first} {family}" if rng.random() < 0.85 else first
        home = region if region != PROVINCE_CODE else rng.pick(self.regions[:-1])
        nik = None
        if rng.random() < 0.7:
            born = date(1955, 1, 1) + timedelta(days=rng.below(51 * 365))
            day = born.day + (40 if woman else 0)
            nik = (
                f"{home.replace('.', '')}{1 + rng.below(20):02d}"
                f"{day:02d}{born.month:02d}{born.year % 100:02d}{1 + rng.below(99):04d}"
            )
        phone = None
        if rng.random() < 0.8 or channel is Channel.SMS_1708:
            width = 7 + rng.below(2)
            phone = f"08{rng.pick(_PHONE_PREFIXES)}{rng.below(10**width):0{width}d}"
        email = None
        if rng.random() < 0.55:
            handle = f"{first}.{family}".lower() if " " in name else first.lower()
            email = f"{handle}{1 + rng.below(999)}@{rng.pick(_MAIL_DOMAINS)}"
        return (report_id, name, nik, phone, email)


def _tanggal(day: date) -> str:
    """A date the Indonesian way, e.g. ``12 Maret 2025``."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"
