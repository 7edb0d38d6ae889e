"""Deterministic Indonesian seed data for the sandbox node systems.

The same seed always gives the same reports, ids and times, so tests can name
what they expect and the demo looks the same on every run.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from connectors.sandbox.store import SandboxAttachment, SandboxReport
from connectors.sandbox.vocabulary import NodeVocabulary

WIB = timezone(timedelta(hours=7), "WIB")
SEED_START = datetime(2025, 1, 6, 8, 0, tzinfo=WIB)


@dataclass(frozen=True, slots=True)
class Topic:
    """A kind of report and the code each sandbox system files it under."""

    topic_id: int
    open311: str | None
    crm: str
    simpel: int
    opd: str
    kind: str
    title: str
    content: str


CATALOGUE: tuple[Topic, ...] = (
    Topic(301, "JALAN", "INFRA-JLN", 31, "pubmtr", "COMPLAINT", "Jalan berlubang di {street}",
          "Jalan di {street}, {area} berlubang cukup dalam dan membahayakan pengendara motor, "
          "terutama saat hujan. Mohon segera diperbaiki."),
    Topic(302, "JEMBATAN", "INFRA-JBT", 32, "pubmtr", "COMPLAINT", "Jembatan rusak di {area}",
          "Papan jembatan penghubung di {area} sudah lapuk dan sebagian patah, padahal anak "
          "sekolah melewatinya setiap hari."),
    Topic(303, "DRAINASE", "INFRA-DRN", 33, "psda", "COMPLAINT",
          "Saluran air tersumbat di {street}",
          "Drainase di sepanjang {street} tersumbat sampah sehingga air meluap ke jalan dan "
          "rumah warga setiap hujan deras."),
    Topic(304, "PJU", "INFRA-PJU", 34, "pubmtr", "COMPLAINT", "Lampu jalan padam di {street}",
          "Sudah dua minggu lampu penerangan jalan umum di {street} padam. Warga khawatir "
          "terjadi kejahatan pada malam hari."),
    Topic(304, "PJU", "INFRA-PJU", 34, "pubmtr", "ASPIRATION",
          "Usulan penambahan lampu jalan di {area}",
          "Kami warga {area} mengusulkan penambahan lampu jalan di gang menuju masjid dan "
          "sekolah dasar."),
    Topic(601, "SAMPAH", "LH-SAMPAH", 61, "dlhp", "COMPLAINT", "Sampah menumpuk di {area}",
          "Tumpukan sampah di TPS {area} tidak diangkut lebih dari seminggu dan menimbulkan "
          "bau tidak sedap."),
    Topic(602, "SUNGAI", "LH-SUNGAI", 62, "dlhp", "COMPLAINT",
          "Limbah dibuang ke anak sungai di {area}",
          "Warga melihat cairan berwarna hitam dialirkan ke anak Sungai Musi di {area}; banyak "
          "ikan mati."),
    Topic(603, "KARHUTLA", "LH-KARHUTLA", 63, "bpbd", "COMPLAINT",
          "Asap kebakaran lahan di {area}",
          "Ada kebakaran lahan gambut di sekitar {area}; asap sudah masuk ke permukiman dan "
          "sekolah."),
    Topic(101, None, "KES-PKM", 11, "dinkes", "COMPLAINT", "Antrean panjang di Puskesmas {area}",
          "Pasien di Puskesmas {area} menunggu lebih dari tiga jam dan loket sering tutup "
          "sebelum jam pelayanan berakhir."),
    Topic(103, None, "KES-BPJS", 13, "dinkes", "COMPLAINT", "Kartu BPJS tidak aktif saat berobat",
          "Kartu BPJS PBI keluarga kami di {area} dinyatakan tidak aktif saat berobat, padahal "
          "tidak ada pemberitahuan sebelumnya."),
    Topic(201, None, "DIK-PPDB", 21, "disdik", "INFORMATION_REQUEST",
          "Permintaan informasi jadwal PPDB",
          "Mohon informasi jadwal dan syarat Penerimaan Peserta Didik Baru jalur zonasi untuk "
          "sekolah di {area}."),
    Topic(203, None, "DIK-SARPRAS", 23, "disdik", "COMPLAINT", "Atap kelas SD di {area} bocor",
          "Atap dua ruang kelas SD negeri di {area} bocor; murid dipindahkan ke teras saat hujan."),
    Topic(401, None, "ADM-KTP", 41, "disdukcapil", "COMPLAINT", "KTP elektronik belum jadi",
          "Saya merekam KTP-el di {area} tiga bulan lalu namun sampai sekarang belum dicetak "
          "dengan alasan blangko habis."),
    Topic(701, None, "SOS-BANSOS", 71, "dinsos", "COMPLAINT",
          "Bantuan sosial tidak tepat sasaran di {area}",
          "Penerima bantuan sosial di {area} banyak yang mampu, sementara warga lansia yang "
          "membutuhkan tidak terdata."),
    Topic(802, "PARKIR", "HUB-PARKIR", 82, "dishub", "COMPLAINT", "Parkir liar di {street}",
          "Parkir liar di bahu {street} menyebabkan kemacetan setiap sore."),
    Topic(801, "ANGKUTAN", "HUB-ANGKOT", 81, "dishub", "ASPIRATION",
          "Usulan halte angkutan umum di {street}",
          "Mohon dibangun halte angkutan umum di {street}; penumpang menunggu di bahu jalan."),
)  # fmt: skip

OPEN311_SERVICES = {t.open311: t for t in CATALOGUE if t.open311}

AREAS: dict[str, tuple[str, ...]] = {
    "16": ("Ilir Barat I", "Bukit Kecil", "Seberang Ulu I"),
    "16.01": ("Baturaja Timur", "Baturaja Barat", "Peninjauan"),
    "16.02": ("Kayuagung", "Tanjung Lubuk", "Pedamaran"),
    "16.03": ("Muara Enim", "Tanjung Agung", "Gunung Megang"),
    "16.04": ("Lahat", "Merapi Barat", "Kikim Timur"),
    "16.05": ("Muara Beliti", "Tugumulyo", "Megang Sakti"),
    "16.06": ("Sekayu", "Babat Toman", "Sungai Lilin"),
    "16.07": ("Banyuasin III", "Talang Kelapa", "Betung"),
    "16.08": ("Martapura", "Belitang", "Buay Madang"),
    "16.09": ("Muaradua", "Simpang", "Buay Rawan"),
    "16.10": ("Indralaya", "Tanjung Raja", "Pemulutan"),
    "16.11": ("Tebing Tinggi", "Pendopo", "Lintang Kanan"),
    "16.12": ("Talang Ubi", "Penukal", "Abab"),
    "16.13": ("Rupit", "Rawas Ulu", "Karang Jaya"),
    "16.71": ("Ilir Timur I", "Seberang Ulu II", "Sako", "Plaju", "Kalidoni"),
    "16.72": ("Pagar Alam Utara", "Dempo Selatan", "Dempo Tengah"),
    "16.73": ("Lubuklinggau Barat I", "Lubuklinggau Timur II", "Lubuklinggau Utara I"),
    "16.74": ("Prabumulih Timur", "Cambai", "Rambang Kapak Tengah"),
}
STREETS = (
    "Jl. Jenderal Sudirman", "Jl. Merdeka", "Jl. Lintas Sumatera", "Jl. Ahmad Yani",
    "Jl. Pahlawan", "Jl. Kartini", "Jl. Kolonel Atmo", "Jl. Demang Lebar Daun",
)  # fmt: skip
NAMES = (
    "Siti Aminah", "Budi Santoso", "Rahmat Hidayat", "Dewi Lestari", "Ahmad Fauzi",
    "Nurul Hasanah", "Agus Salim", "Rina Marlina", "Hendra Gunawan", "Yuni Kartika",
    "Muhammad Ridwan", "Fitri Handayani", "Joko Susilo", "Sri Wahyuni",
)  # fmt: skip
ARCHIVE_REASONS = ("tidak jelas", "duplikat", "bukan pelayanan publik")
CHANNELS = ("WEB", "MOBILE_APP", "MOBILE_APP", "SMS_1708", "FACE_TO_FACE", "TWITTER")


def category_for(protocol: str, topic: Topic) -> str:
    """How a protocol's system files a topic."""
    if protocol == "open311":
        return topic.open311 or "LAINNYA"
    if protocol == "rest":
        return topic.crm
    if protocol == "postgres":
        return str(topic.simpel)
    return str(topic.topic_id)


def new_report(
    rng: random.Random,
    node: str,
    protocol: str,
    vocabulary: NodeVocabulary,
    report_id: str,
    region: str,
    *,
    created: datetime,
) -> SandboxReport:
    """One plausible report filed at ``node`` about ``region``, at the first step."""
    topics = [t for t in CATALOGUE if protocol != "open311" or t.open311]
    topic = rng.choice(topics)
    area = rng.choice(AREAS[region])
    street = rng.choice(STREETS)
    institution = f"opd-16-{topic.opd}" if region == "16" else f"pemda-{region}"
    anonymous = rng.random() < 0.15
    attachments = [
        SandboxAttachment(
            f"{report_id}-{n}",
            f"foto-{n}.jpg",
            "image/jpeg",
            rng.randint(80_000, 2_500_000),
            f"https://sandbox.invalid/{node}/lampiran/{report_id}-{n}.jpg",
        )
        for n in range(1, rng.choice((0, 0, 1, 2)) + 1)
    ]
    if protocol == "open311":
        del attachments[1:]  # GeoReport v2 has room for one media_url
    first = vocabulary.steps[0]
    return SandboxReport(
        id=report_id,
        title=topic.title.format(area=area, street=street),
        content=topic.content.format(area=area, street=street),
        kind=topic.kind,
        topic_id=topic.topic_id,
        category=category_for(protocol, topic),
        status=first.label,
        step=0,
        note=first.note,
        institution=institution,
        region=region,
        channel=rng.choice(CHANNELS),
        created_at=created,
        updated_at=created,
        supervisory=(rng.random() < 0.2) if topic.kind == "COMPLAINT" else None,
        anonymous=anonymous,
        confidential=rng.random() < 0.05,
        location=f"{street}, Kec. {area}",
        lat=round(-3.0 + rng.uniform(-1.2, 0.9), 5) if protocol == "open311" else None,
        lon=round(104.0 + rng.uniform(-1.8, 1.2), 5) if protocol == "open311" else None,
        incident_date=(created - timedelta(days=rng.randint(0, 10))).date(),
        tags=[topic.title.split(" ")[0].lower()],
        reporter_name=None if anonymous else rng.choice(NAMES),
        attachments=attachments,
    )


def seed_reports(
    rng: random.Random,
    node: str,
    protocol: str,
    vocabulary: NodeVocabulary,
    regions: tuple[str, ...],
    ids: list[str],
) -> list[SandboxReport]:
    """``len(ids)`` reports spread over 2025, each already some way along its path."""
    reports = []
    for report_id in ids:
        created = SEED_START + timedelta(minutes=rng.randint(0, 60 * 24 * 300))
        report = new_report(
            rng, node, protocol, vocabulary, report_id, rng.choice(regions), created=created
        )
        step = min(int(rng.triangular(0, len(vocabulary.steps), 1)), len(vocabulary.steps) - 1)
        report.step, report.version = step, step + 1
        report.status, report.note = vocabulary.steps[step].label, vocabulary.steps[step].note
        if vocabulary.extra and rng.random() < 0.1:
            report.status = rng.choice(vocabulary.extra)
            report.note = f"Status {report.status}"
            if report.status in ("Diarsipkan", "DIARSIPKAN", "90"):
                report.archive_reason = rng.choice(ARCHIVE_REASONS)
        report.updated_at = created + timedelta(hours=6 * report.version)
        reports.append(report)
    return reports
