"""The sandbox systems' own status vocabularies: the words each node uses.

They are deliberately unlike one another and unlike the hub's, so the node
table's mappings do real work. LAPOR!'s "Bukan Wewenang" is a state the default
mapping does not know, so the review queue has something to show.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Step:
    """One station on a node's path: its label and the note staff leave there."""

    label: str
    note: str


@dataclass(frozen=True, slots=True)
class NodeVocabulary:
    """A node system's labels and the path its staff walk a report along."""

    name: str
    steps: tuple[Step, ...]
    extra: tuple[str, ...] = ()
    """Labels the system accepts besides the steps (postponed, archived, …)."""
    resume: Mapping[str, str] = field(default_factory=dict)
    """Where a report in an extra label goes next; absent: it stays (terminal)."""
    detour: tuple[str, str, str] | None = None
    """(from label, to label, note): a side step the staff sometimes take."""

    @property
    def labels(self) -> frozenset[str]:
        return frozenset(s.label for s in self.steps) | frozenset(self.extra)

    def final(self, label: str, step: int) -> bool:
        if label in self.extra:
            return label not in self.resume
        return step >= len(self.steps) - 1

    def step_of(self, label: str, current: int) -> int:
        """The step index a label puts a report at (the current one if it already matches)."""
        if 0 <= current < len(self.steps) and self.steps[current].label == label:
            return current
        for i, step in enumerate(self.steps):
            if step.label == label:
                return i
        return current


OPEN311 = NodeVocabulary(
    "open311",
    (
        Step("open", "Laporan diterima"),
        Step("open", "Diteruskan ke dinas terkait"),
        Step("open", "Petugas sedang menangani di lokasi"),
        Step("closed", "Selesai ditangani"),
    ),
)
CRM = NodeVocabulary(
    "crm",
    (
        Step("Menunggu", "Menunggu verifikasi admin"),
        Step("Koordinasi", "Dikoordinasikan dengan perangkat daerah"),
        Step("Disposisi", "Diteruskan ke perangkat daerah"),
        Step("Proses", "Sedang ditindaklanjuti petugas"),
        Step("Selesai", "Selesai ditindaklanjuti"),
    ),
)
KABUPATEN_GRAPHQL = NodeVocabulary(
    "kabupaten-graphql",
    (
        Step("BARU", "Aduan baru masuk"),
        Step("DIVERIFIKASI", "Aduan telah diverifikasi"),
        Step("DIDISPOSISI", "Aduan didisposisikan ke OPD"),
        Step("DITANGANI", "OPD sedang menangani"),
        Step("SELESAI", "Aduan selesai ditangani"),
    ),
    extra=("DITUNDA", "DIARSIPKAN"),
    resume={"DITUNDA": "DIVERIFIKASI"},
)
LAPOR = NodeVocabulary(
    "lapor",
    (
        Step("Belum Terverifikasi", "Laporan menunggu verifikasi"),
        Step("Terverifikasi", "Laporan telah diverifikasi admin nasional"),
        Step("Terdisposisi", "Laporan diteruskan ke instansi berwenang"),
        Step("Ditindaklanjuti", "Instansi telah memberi tindak lanjut"),
        Step("Selesai", "Laporan selesai"),
    ),
    extra=("Ditunda", "Diarsipkan", "Bukan Wewenang"),
    resume={"Ditunda": "Terverifikasi", "Bukan Wewenang": "Terdisposisi"},
    detour=("Terdisposisi", "Bukan Wewenang", "Instansi menyatakan bukan wewenangnya"),
)
SIMPEL = NodeVocabulary(
    "simpel",
    (
        Step("10", "baru"),
        Step("20", "terverifikasi"),
        Step("30", "diteruskan"),
        Step("40", "ditangani"),
        Step("50", "selesai"),
    ),
    extra=("15", "90"),
    resume={"15": "20"},
)
