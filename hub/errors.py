"""The hub's one root error and its coded kinds.

GraphQL clients see ``extensions.code`` for these; every other exception is
masked and logged, so driver errors never leak their internals.
"""

from __future__ import annotations

from collections.abc import Mapping

IN_INDONESIAN: Mapping[str, str] = {
    "BAD_INPUT": "Data yang dikirim tidak valid; periksa kembali isinya.",
    "NOT_FOUND": "Data tidak ditemukan, atau Anda tidak berwenang melihatnya.",
    "INVALID_TRANSITION": "Status laporan tidak dapat diubah dengan cara ini dari status saat ini.",
    "VERSION_CONFLICT": "Laporan sudah diubah pihak lain; muat ulang laporan lalu coba lagi.",
    "FORBIDDEN": "Anda tidak berwenang melakukan tindakan ini.",
    "UNAVAILABLE": "Layanan sedang tidak tersedia; coba lagi sebentar lagi.",
    "SOURCE_UNAVAILABLE": "Sistem daerah yang dimintai data sedang tidak dapat dihubungi.",
    "UNAUTHENTICATED": "Token akses tidak sah atau sudah kedaluwarsa; minta token baru.",
    "RATE_LIMITED": "Terlalu banyak permintaan; tunggu sebentar lalu coba lagi.",
    "TOO_LARGE": "Permintaan terlalu besar.",
    "CONFIG": "Pengaturan hub belum lengkap atau salah.",
    "INTERNAL": "Terjadi kesalahan di hub; kejadian ini sudah dicatat.",
}
"""What each error code means, in Indonesian, for the people who read the errors: a
regency's staff in their app. Errors keep their code and their English ``message``
(the detail, for developers); ``extensions.pesan`` carries this sentence."""


def pesan(code: str) -> dict[str, str]:
    """The Indonesian sentence for ``code`` as an extension entry (none if it has none)."""
    sentence = IN_INDONESIAN.get(code)
    return {"pesan": sentence} if sentence is not None else {}


class HubError(Exception):
    """Root of every error the hub raises on purpose."""

    code = "INTERNAL"
    retryable = False

    def __init__(self, message: str, pesan_detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.pesan_detail = pesan_detail
        """The detail in Indonesian, with the same ids and numbers, where the error is
        common enough to have one (``extensions.pesanDetail``; the makers below)."""

    @property
    def extensions(self) -> dict[str, object]:
        """What a GraphQL client sees beside the message (graphql-core reads this)."""
        detail = {"pesanDetail": self.pesan_detail} if self.pesan_detail is not None else {}
        return {"code": self.code, "retryable": self.retryable, **pesan(self.code), **detail}


class BadInput(HubError):
    code = "BAD_INPUT"


class NotFound(HubError):
    code = "NOT_FOUND"


class InvalidTransition(HubError):
    code = "INVALID_TRANSITION"


class VersionConflict(HubError):
    code = "VERSION_CONFLICT"
    retryable = True


class Forbidden(HubError):
    code = "FORBIDDEN"


class IdempotencyConflict(BadInput):
    """The same idempotency key came back with a different request."""


class Unavailable(HubError):
    """The database (or another part the hub needs) is unreachable for now: try again.

    HTTP answers carry status 503 and ``Retry-After``; nothing was written.
    """

    code = "UNAVAILABLE"
    retryable = True
    retry_after_seconds = 2


class ConfigError(HubError):
    """A setting is missing or malformed; the message names the variable."""

    code = "CONFIG"


class SourceUnavailable(HubError):
    """A live read from a node failed; every other field of the answer still stands.

    Its extensions name the node (``source``), the connector's error code and
    whether trying again later may succeed.
    """

    code = "SOURCE_UNAVAILABLE"

    def __init__(self, source: str, source_code: str, retryable: bool, message: str) -> None:
        super().__init__(message)
        self.source = source
        self.source_code = source_code
        self.retryable = retryable

    @property
    def extensions(self) -> dict[str, object]:
        return {
            "source": self.source,
            "code": self.source_code,
            "retryable": self.retryable,
            **pesan(self.code),
        }


# The commonest refusals, made in one place each with their detail in both languages.


def no_such_report(report_id: object) -> NotFound:
    """A report that does not exist or that the caller may not see (the same answer)."""
    return NotFound(
        f"no report with id {report_id}",
        f"Tidak ada laporan dengan ID {report_id}, atau Anda tidak berwenang melihatnya.",
    )


def stale_version(report_id: object, version: int, expected: int) -> VersionConflict:
    """The caller read the report at ``expected``; it is at ``version`` now."""
    return VersionConflict(
        f"report {report_id} is at version {version}, not the expected {expected}; "
        "reload it and try again",
        f"Laporan {report_id} sudah di versi {version}, bukan versi {expected} yang Anda "
        "baca; muat ulang laporan lalu coba lagi.",
    )


def forbidden_move(verb: str, state: str, label: str, allowed: str) -> InvalidTransition:
    """``verb`` (as people say it, e.g. "follow up") does not apply in ``state``."""
    return InvalidTransition(
        f"cannot {verb} a report that is {state} ({label}); moves allowed from {state}: {allowed}",
        f"Tindakan '{verb}' tidak berlaku untuk laporan berstatus {label} ({state}); dari "
        f"status ini laporan hanya dapat menjadi: {allowed}.",
    )


_REFERENCES: Mapping[str, str] = {
    "regionCode": "Wilayah",
    "topicId": "Topik",
    "institutionCode": "Instansi",
    "actor node": "Node pelaku",
}


def unknown_reference(name: str, value: object) -> BadInput:
    """An input's ``name`` (a region, topic, institution or node) names nothing the hub
    knows."""
    return BadInput(
        f"{name} {value!r} is not known to the hub",
        f"{_REFERENCES[name]} {value!r} tidak dikenal hub; periksa kodenya.",
    )
