"""The dashboard's words: Indonesian first, English with ``?lang=en``."""

from __future__ import annotations

from collections.abc import Mapping

LANGUAGES = ("id", "en")

_TEXTS: Mapping[str, tuple[str, str]] = {
    "dashboard": ("Dasbor SP4N-LAPOR! Sumatera Selatan", "SP4N-LAPOR! South Sumatra dashboard"),
    "overview": ("Ringkasan", "Overview"),
    "regions": ("Wilayah", "Regions"),
    "region": ("Wilayah", "Region"),
    "sla": ("Kepatuhan SLA", "SLA compliance"),
    "ranking": ("Peringkat", "Ranking"),
    "trend": ("Tren bulanan", "Monthly trend"),
    "overdue": ("Lewat tenggat", "Overdue"),
    "report": ("Laporan", "Report"),
    "period": ("Periode", "Period"),
    "rule_versions": ("Versi aturan SLA", "SLA rule versions"),
    "current_to": ("Data terkini sampai", "Figures current to"),
    "as_of": ("Tenggat dinilai per", "Deadlines judged as of"),
    "suppress_below": (
        "Kelompok di bawah {n} laporan disembunyikan",
        "Groups under {n} reports are suppressed",
    ),
    "suppressed": ("disembunyikan", "suppressed"),
    "signed_in_as": ("Masuk sebagai", "Signed in as"),
    "log_out": ("Keluar", "Log out"),
    "all_regions": ("semua wilayah", "every region"),
    "from": ("Dari", "From"),
    "to": ("Sampai (tidak termasuk)", "To (exclusive)"),
    "show": ("Tampilkan", "Show"),
    "download": ("Unduh", "Download"),
    "figure": ("Angka", "Figure"),
    "level": ("Tingkat", "Level"),
    "all_levels": ("Semua tingkat", "All levels"),
    "total": ("Total", "Total"),
    "key": ("Kode", "Code"),
    "label": ("Nama", "Name"),
    "kind": ("Jenis", "Kind"),
    "month": ("Bulan", "Month"),
    "stage": ("Tahap", "Stage"),
    "received": ("Diterima", "Received"),
    "verified": ("Diverifikasi", "Verified"),
    "disposed": ("Didisposisikan", "Forwarded"),
    "followed_up": ("Ditindaklanjuti", "Followed up"),
    "completed": ("Selesai", "Completed"),
    "archived": ("Diarsipkan", "Archived"),
    "auto_closed": ("Ditutup otomatis", "Auto-closed"),
    "completed_within_limit": ("Selesai tepat waktu", "Completed within the limit"),
    "completion_within_limit": ("Selesai tepat waktu", "Completed within the limit"),
    "verify_within_limit": ("Verifikasi tepat waktu", "Verified within the limit"),
    "completed_share": ("Porsi selesai", "Share completed"),
    "within_limit_share": ("Tepat waktu", "Within the limit"),
    "met": ("Tepat", "Met"),
    "late": ("Terlambat", "Late"),
    "overdue_count": ("Lewat tenggat", "Overdue"),
    "pending": ("Berjalan", "Pending"),
    "median_days": ("Median (hari kerja)", "Median (working days)"),
    "p90_days": ("P90 (hari kerja)", "P90 (working days)"),
    "rank": ("Peringkat", "Rank"),
    "score": ("Skor", "Score"),
    "institution": ("Instansi", "Institution"),
    "institutions": ("Instansi", "Institutions"),
    "by_kind": ("Menurut jenis", "By kind"),
    "by_region": ("Menurut wilayah", "By region"),
    "by_institution": ("Menurut instansi", "By institution"),
    "tiles": ("Peta petak kabupaten/kota", "Tile map of the regencies and cities"),
    "tiles_note": (
        "Warna menurut angka terpilih; klik petak untuk membuka wilayahnya.",
        "Coloured by the chosen figure; a tile opens its region.",
    ),
    "title": ("Judul", "Title"),
    "hidden_title": ("(rahasia)", "(confidential)"),
    "held_by": ("Dipegang oleh", "Held by"),
    "due_day": ("Tenggat", "Due day"),
    "working_days_late": ("Terlambat (hari kerja)", "Working days late"),
    "state": ("Status", "State"),
    "none_overdue": ("Tidak ada laporan lewat tenggat.", "No report is past a deadline."),
    "overdue_note": (
        "Laporan periode ini yang tahapnya lewat tenggat hari ini, tertua dahulu "
        "(paling banyak {n}).",
        "Reports of the period with a stage past its deadline today, oldest first (at most {n}).",
    ),
    "history": ("Riwayat", "History"),
    "dispositions": ("Rantai disposisi", "Disposition chain"),
    "deadlines": ("Tenggat", "Deadlines"),
    "follow_ups": ("Tindak lanjut", "Follow-ups"),
    "content": ("Isi", "Content"),
    "submitted_at": ("Dikirim", "Submitted"),
    "at": ("Waktu", "At"),
    "verb": ("Aksi", "Action"),
    "actor": ("Pelaku", "Actor"),
    "note": ("Catatan", "Note"),
    "from_institution": ("Dari instansi", "From"),
    "to_institution": ("Ke instansi", "To"),
    "declined": ("Ditolak (bukan wewenang)", "Declined (not its competence)"),
    "status": ("Status", "Status"),
    "limit_days": ("Batas (hari kerja)", "Limit (working days)"),
    "due_at": ("Jatuh tempo", "Due"),
    "ended_at": ("Selesai pada", "Ended"),
    "days_taken": ("Hari kerja terpakai", "Working days taken"),
    "confidential": ("Rahasia", "Confidential"),
    "anonymous": ("Anonim", "Anonymous"),
    "yes": ("ya", "yes"),
    "no": ("tidak", "no"),
    "open_report": ("buka", "open"),
    "no_dashboard": (
        "Akun ini tidak punya peran untuk dasbor.",
        "This account has no role the dashboard serves.",
    ),
    "not_found": ("Tidak ditemukan.", "Not found."),
    "bad_input": ("Masukan tidak sah", "Bad input"),
    "regency_only_total": (
        "Rincian per jenis hanya tersedia untuk seluruh provinsi.",
        "The breakdown by kind is kept for the whole province only.",
    ),
    "trend_chart": ("Diterima dan selesai per bulan", "Received and completed by month"),
    "language": ("English", "Bahasa Indonesia"),
    "VERIFY": ("Verifikasi", "Verification"),
    "FIRST_FOLLOW_UP": ("Tindak lanjut pertama", "First follow-up"),
    "COMPLETION": ("Penyelesaian", "Completion"),
    "AUTO_CLOSE": ("Tutup otomatis", "Auto-close"),
    "COMPLAINT": ("Pengaduan", "Complaint"),
    "ASPIRATION": ("Aspirasi", "Aspiration"),
    "INFORMATION_REQUEST": ("Permintaan informasi", "Information request"),
    "REGENCY_GOVERNMENT": ("Pemerintah kabupaten/kota", "Regency government"),
    "PROVINCIAL_OPD": ("OPD provinsi", "Provincial agency"),
    "NATIONAL": ("Nasional", "National"),
    "NOT_STARTED": ("Belum mulai", "Not started"),
    "PENDING": ("Berjalan", "Pending"),
    "OVERDUE": ("Lewat tenggat", "Overdue"),
    "MET": ("Tepat waktu", "Met"),
    "LATE": ("Terlambat", "Late"),
    "NOT_APPLICABLE": ("Tidak berlaku", "Not applicable"),
    "NO_RULE": ("Tanpa aturan", "No rule"),
}


class Texts:
    """The words of one language; an unknown key shows as itself."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGUAGES else LANGUAGES[0]
        self._index = LANGUAGES.index(self.lang)

    def __call__(self, key: str, **values: object) -> str:
        found = _TEXTS.get(key)
        text = found[self._index] if found else key
        return text.format(**values) if values else text

    @property
    def other(self) -> str:
        return LANGUAGES[1 - self._index]
