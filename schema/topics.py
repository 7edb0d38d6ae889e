"""The seed topic tree (kategori): id, parent, name."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Topic:
    id: int
    parent_id: int | None
    name: str


_TREE: dict[tuple[int, str], tuple[tuple[int, str], ...]] = {
    (1, "Kesehatan"): (
        (101, "Pelayanan Puskesmas"),
        (102, "Rumah Sakit Daerah"),
        (103, "BPJS Kesehatan"),
    ),
    (2, "Pendidikan"): (
        (201, "Penerimaan Peserta Didik Baru"),
        (202, "Dana BOS"),
        (203, "Sarana Sekolah"),
    ),
    (3, "Infrastruktur"): (
        (301, "Jalan Rusak"),
        (302, "Jembatan"),
        (303, "Drainase dan Banjir"),
        (304, "Penerangan Jalan Umum"),
    ),
    (4, "Administrasi Kependudukan"): (
        (401, "KTP Elektronik"),
        (402, "Kartu Keluarga"),
        (403, "Akta Kelahiran"),
    ),
    (5, "Perizinan"): (
        (501, "Izin Usaha"),
        (502, "Persetujuan Bangunan Gedung"),
    ),
    (6, "Lingkungan Hidup"): (
        (601, "Sampah"),
        (602, "Pencemaran Sungai Musi"),
        (603, "Kebakaran Hutan dan Lahan"),
    ),
    (7, "Sosial"): (
        (701, "Bantuan Sosial"),
        (702, "Program Keluarga Harapan"),
    ),
    (8, "Perhubungan"): (
        (801, "Angkutan Umum"),
        (802, "Parkir Liar"),
    ),
}

TOPICS: tuple[Topic, ...] = tuple(
    topic
    for (root_id, root_name), children in _TREE.items()
    for topic in (
        Topic(root_id, None, root_name),
        *(Topic(child_id, root_id, name) for child_id, name in children),
    )
)
