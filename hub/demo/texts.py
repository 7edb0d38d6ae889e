"""The demo's sample texts: places of each regency, report texts per topic, names.

Data laid out as tables, in Indonesian as the reports are; ``hub.demo.seed`` draws
from them. The texts name no person: reporters' names are drawn apart (``MEN``,
``WOMEN``, ``FAMILY``) and go to ``reporters`` only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from schema.report import ArchiveReason, ReportKind


@dataclass(frozen=True, slots=True)
class Place:
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
LINTAS = "Jl. Lintas Sumatera"
PLACES: Mapping[str, Place] = {
    "16.01": Place("Baturaja", ("Baturaja Timur", "Baturaja Barat", "Lengkiti", "Peninjauan"),
                    ("Sukaraya", "Kemalaraja", "Air Gading", "Sekar Jaya", "Tanjung Baru"),
                    ("Jl. Dr. Moh. Hatta", "Jl. Jenderal Sudirman", LINTAS, "Jl. Kartini"),
                    "RSUD Dr. H. Ibnu Sutowo", (-4.13, 104.17), "OKU/{year}/{seq:05d}", 37),
    "16.02": Place("Kayuagung", ("Kayuagung", "Tanjung Lubuk", "Lempuing", "Pampangan"),
                    ("Kutaraya", "Jua-Jua", "Perigi", "Sukadana", "Cinta Raja"),
                    ("Jl. Letnan Muchtar Saleh", "Jl. Lintas Timur", "Jl. Merdeka"),
                    "RSUD Kayuagung", (-3.40, 104.83), "OKI-{seq:06d}", 80),
    "16.03": Place("Muara Enim", ("Muara Enim", "Lawang Kidul", "Tanjung Agung", "Ujan Mas"),
                    ("Pasar II", "Tungkal", "Tanjung Enim", "Air Lintang", "Muara Lawai"),
                    ("Jl. Jenderal Sudirman", "Jl. Bypass Muara Enim", LINTAS),
                    "RSUD Dr. H. Mohamad Rabain", (-3.65, 103.77), "ME{year}{seq:05d}", 63),
    "16.04": Place("Lahat", ("Lahat", "Merapi Barat", "Kikim Timur", "Kota Agung"),
                    ("Bandar Jaya", "Pasar Baru", "Gunung Gajah", "Kota Baru", "Talang Jawa"),
                    ("Jl. Mayor Ruslan", LINTAS, "Jl. Kolonel Barlian", "Jl. Dr. Sutomo"),
                    "RSUD Lahat", (-3.79, 103.54), "LHT/{year}/{seq:05d}", 43),
    "16.05": Place("Muara Beliti", ("Muara Beliti", "Tugumulyo", "Jayaloka", "Purwodadi"),
                    ("Mataram", "Sukakarya", "Trikoyo", "Sumber Harta", "Jaya Tunggal"),
                    (LINTAS, "Jl. Poros Tugumulyo", "Jl. Pembangunan"),
                    "RSUD Dr. Sobirin", (-3.27, 103.10), "MURA-{seq:06d}", 40),
    "16.06": Place("Sekayu", ("Sekayu", "Babat Toman", "Sungai Lilin", "Bayung Lencir"),
                    ("Balai Agung", "Serasan Jaya", "Kayuara", "Soak Baru", "Bailangu"),
                    ("Jl. Merdeka", "Jl. Kolonel Wahid Udin", "Jl. Lintas Timur"),
                    "RSUD Sekayu", (-2.88, 103.84), "MUBA/{year}/{seq:06d}", 63),
    "16.07": Place("Pangkalan Balai", ("Banyuasin III", "Talang Kelapa", "Sembawa", "Betung"),
                    ("Pangkalan Balai", "Sukajadi", "Kenten Laut", "Tanah Mas", "Lalang Sembawa"),
                    ("Jl. Palembang-Betung", "Jl. Sukajadi Raya", "Jl. Merdeka"),
                    "RSUD Banyuasin", (-2.89, 104.40), "BA-{year}-{seq:05d}", 85),
    "16.08": Place("Martapura", ("Martapura", "Belitang", "Bunga Mayang", "Buay Madang"),
                    ("Veteran Jaya", "Gumawang", "Tanjung Kemala", "Sumber Jaya", "Dadi Mulyo"),
                    (LINTAS, "Jl. Ahmad Yani", "Jl. Raya Belitang"),
                    "RSUD Martapura", (-4.31, 104.37), "OKUT{seq:06d}", 66),
    "16.09": Place("Muaradua", ("Muaradua", "Banding Agung", "Simpang", "Buay Sandang Aji"),
                    ("Pasar Muaradua", "Bumi Agung", "Pelangki", "Surabaya Ranau"),
                    ("Jl. Lintas Muaradua", "Jl. Merdeka", "Jl. Raya Ranau"),
                    "RSUD Muaradua", (-4.53, 104.07), "OKUS/{year}/{seq:05d}", 41),
    "16.10": Place("Indralaya", ("Indralaya", "Indralaya Utara", "Tanjung Raja", "Pemulutan"),
                    ("Timbangan", "Indralaya Mulya", "Sakatiga", "Tanjung Raja Selatan"),
                    ("Jl. Lintas Timur", "Jl. Raya Indralaya", "Jl. Palembang-Prabumulih"),
                    "RSUD Ogan Ilir", (-3.22, 104.65), "OI-{seq:06d}", 42),
    "16.11": Place("Tebing Tinggi", ("Tebing Tinggi", "Pendopo", "Lintang Kanan", "Ulu Musi"),
                    ("Pasar Tebing Tinggi", "Tanjung Kupang", "Padang Titiran", "Tanjung Raya"),
                    (LINTAS, "Jl. Poros Tebing Tinggi", "Jl. Merdeka"),
                    "RSUD Tebing Tinggi", (-3.62, 103.07), "4L-{year}{seq:05d}", 34),
    "16.12": Place("Talang Ubi", ("Talang Ubi", "Penukal", "Abab", "Tanah Abang"),
                    ("Talang Ubi Timur", "Handayani Mulya", "Babat", "Tanah Abang Jaya"),
                    ("Jl. Merdeka Pendopo", "Jl. Lintas Pendopo", "Jl. Poros PALI"),
                    "RSUD Talang Ubi", (-3.34, 103.86), "PALI/{seq:05d}", 20),
    "16.13": Place("Rupit", ("Rupit", "Rawas Ulu", "Karang Jaya", "Nibung"),
                    ("Muara Rupit", "Surulangun", "Karang Dapo", "Beringin Makmur"),
                    (LINTAS, "Jl. Poros Rupit"),
                    "RSUD Rupit", (-2.72, 102.95), "MRT{year}{seq:05d}", 20),
    "16.71": Place("Palembang",
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
    "16.72": Place("Pagar Alam", ("Pagar Alam Utara", "Pagar Alam Selatan", "Dempo Utara"),
                    ("Alun Dua", "Bangun Rejo", "Kuripan Babas", "Jokoh", "Gunung Dempo"),
                    ("Jl. Kapten Sanap", "Jl. Lingkar Dempo", "Jl. Ahmad Yani"),
                    "RSUD Besemah", (-4.02, 103.25), "PGA{seq:06d}", 14),
    "16.73": Place("Lubuk Linggau", ("Lubuk Linggau Barat I", "Lubuk Linggau Timur I",
                                      "Lubuk Linggau Utara II", "Lubuk Linggau Selatan I"),
                    ("Pasar Satelit", "Taba Jemekeh", "Megang", "Petanang", "Watas Lubuk Durian"),
                    ("Jl. Yos Sudarso", "Jl. Garuda", LINTAS, "Jl. Depati Said"),
                    "RSUD Siti Aisyah", (-3.30, 102.86), "LLG/{year}/{seq:05d}", 24),
    "16.74": Place("Prabumulih", ("Prabumulih Timur", "Prabumulih Barat", "Cambai"),
                    ("Muara Dua", "Gunung Ibul", "Sukaraja", "Patih Galung", "Karang Raja"),
                    ("Jl. Jenderal Sudirman", "Jl. Lingkar Prabumulih", "Jl. Padat Karya"),
                    "RSUD Prabumulih", (-3.43, 104.24), "PBM-{seq:06d}", 19),
}
PROVINCE_WEIGHT = 45
"""Reports about provincial matters (region ``16``), relative to the regencies above."""
PROVINCE_REF_FORMAT = "SUMSEL-{year}{month:02d}-{seq:05d}"
MUSI_REGIONS = frozenset({"16", "16.05", "16.06", "16.07", "16.11", "16.13", "16.71"})


@dataclass(frozen=True, slots=True)
class Text:
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


_T = Text
TEXTS: Mapping[int, Text] = {
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

OPENINGS: Mapping[ReportKind, tuple[str, ...]] = {
    ReportKind.COMPLAINT: ("Dengan hormat,", "Selamat pagi Bapak/Ibu admin.",
                           "Assalamualaikum, izin melapor.", "Kepada instansi terkait,", ""),
    ReportKind.ASPIRATION: ("Dengan hormat, kami ingin menyampaikan aspirasi warga.",
                            "Selamat siang Bapak/Ibu.", ""),
    ReportKind.INFORMATION_REQUEST: ("Selamat siang, mohon izin bertanya.", "Dengan hormat,", ""),
}
CLOSINGS: Mapping[ReportKind, tuple[str, ...]] = {
    ReportKind.COMPLAINT: ("Mohon segera ditindaklanjuti. Terima kasih.",
                           "Kami berharap ada tindakan nyata dari pemerintah.",
                           "Foto kondisi di lapangan kami lampirkan.", "Mohon perhatiannya.", ""),
    ReportKind.ASPIRATION: ("Semoga dapat menjadi pertimbangan. Terima kasih.", ""),
    ReportKind.INFORMATION_REQUEST: ("Atas informasinya kami ucapkan terima kasih.", ""),
}
DURATIONS = ("sepekan", "dua minggu", "satu bulan", "hampir tiga bulan", "lebih dari enam bulan")
MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
           "September", "Oktober", "November", "Desember")
FOLLOW_UPS = (
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
REPLIES = (
    "Terima kasih, tetapi sampai hari ini kondisinya belum berubah.",
    "Petugas memang sudah datang, namun perbaikannya baru sebagian.",
    "Lokasi tepatnya di depan rumah nomor 12, dekat tiang listrik.",
    "Foto terbaru sudah saya lampirkan di aplikasi.",
    "Mohon kabari kapan jadwal perbaikannya.",
)
RATING_COMMENTS = {
    1: ("Tidak ada perubahan sama sekali.",),
    2: ("Penanganannya lama dan belum tuntas.",),
    3: ("Sudah ditangani, tetapi butuh waktu lama.",),
    4: ("Terima kasih, sudah diperbaiki.", ""),
    5: ("Cepat dan tuntas, terima kasih banyak!", ""),
}
"""What reporters say with a satisfaction score (empty: no comment)."""
POSTPONE_NOTES = ("Mohon pelapor melengkapi lokasi kejadian.",
                   "Mohon lampirkan foto pendukung.", "Kronologi belum jelas; mohon dilengkapi.")
REOPEN_NOTES = ("Pelapor menyatakan permasalahan belum selesai.",
                 "Menurut tanggapan pelapor kondisi di lapangan belum berubah.")
ARCHIVE: Mapping[ArchiveReason, tuple[int, str]] = {
    ArchiveReason.UNCLEAR: (30, "Isi laporan tidak jelas dan tidak dilengkapi pelapor."),
    ArchiveReason.TOO_GENERAL: (20, "Laporan terlalu umum, tanpa lokasi atau waktu kejadian."),
    ArchiveReason.NOT_PUBLIC_SERVICE: (20, "Laporan bukan tentang pelayanan publik."),
    ArchiveReason.SPAM: (10, "Laporan berisi promosi."),
    ArchiveReason.DUPLICATE: (20, "Sama dengan laporan lain yang sedang ditangani."),
}

MEN = ("Ahmad", "Muhammad", "Rizky", "Dedi", "Andi", "Budi", "Hendra", "Agus", "Fajar", "Arif",
        "Doni", "Iwan", "Taufik", "Irfan", "Bayu", "Rudi", "Hasan", "Zulkifli", "Ikhsan", "Eko")
WOMEN = ("Siti", "Dewi", "Nur", "Ayu", "Rina", "Eka", "Putri", "Indah", "Wulan", "Fitri",
          "Yuliana", "Maya", "Ratna", "Lina", "Sri", "Novita", "Desi", "Rahma", "Nurul", "Yeni")
FAMILY = ("Pratama", "Saputra", "Wijaya", "Hidayat", "Susanto", "Setiawan", "Kurniawan",
           "Lestari", "Handayani", "Rahmawati", "Permata", "Fitriani", "Syahputra", "Gunawan",
           "Firmansyah", "Ramadhan", "Nugroho", "Anggraini", "Maharani", "Marlina", "Safitri")
MAIL_DOMAINS = ("gmail.com", "gmail.com", "gmail.com", "yahoo.co.id", "yahoo.com", "ymail.com")
PHONE_PREFIXES = ("11", "12", "13", "21", "22", "52", "53", "77", "78", "81", "82", "95", "96")
# fmt: on
