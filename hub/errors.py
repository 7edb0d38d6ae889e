"""The hub's one root error and its coded kinds.

GraphQL clients see ``extensions.code`` for these; every other exception is
masked and logged, so driver errors never leak their internals.
"""

from __future__ import annotations

import re
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


DETAILS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"^report (?P<id>\S+) is at version (?P<now>\d+), not the expected "
                   r"(?P<expected>\d+)"),
        "Laporan {id} sudah di versi {now}, bukan versi {expected} yang Anda baca; muat "
        "ulang laporan lalu coba lagi.",
    ),
    (
        re.compile(r"^cannot (?P<verb>[a-z ]+) a report that is (?P<state>[A-Z_]+) "
                   r"\((?P<label>[^)]+)\); moves allowed from [A-Z_]+: (?P<allowed>.+)$"),
        "Tindakan '{verb}' tidak berlaku untuk laporan berstatus {label} ({state}); dari "
        "status ini laporan hanya dapat menjadi: {allowed}.",
    ),
    (
        re.compile(r"^no report with id (?P<id>\S+)$"),
        "Tidak ada laporan dengan ID {id}, atau Anda tidak berwenang melihatnya.",
    ),
    (
        re.compile(r"^institutionCode '(?P<code>[^']*)' is not known to the hub$"),
        "Instansi '{code}' tidak dikenal hub; periksa kode instansinya.",
    ),
)  # fmt: skip
"""The commonest details, in Indonesian: a pattern of the English ``message`` and the
sentence it becomes (``extensions.pesanDetail``), with the same ids and numbers."""


def pesan_detail(message: str) -> dict[str, str]:
    """The Indonesian sentence for a detail the table knows, as an extension entry."""
    for pattern, sentence in DETAILS:
        found = pattern.match(message)
        if found is not None:
            return {"pesanDetail": sentence.format(**found.groupdict())}
    return {}


def pesan(code: str) -> dict[str, str]:
    """The Indonesian sentence for ``code`` as an extension entry (none if it has none)."""
    sentence = IN_INDONESIAN.get(code)
    return {"pesan": sentence} if sentence is not None else {}


class HubError(Exception):
    """Root of every error the hub raises on purpose."""

    code = "INTERNAL"
    retryable = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def extensions(self) -> dict[str, object]:
        """What a GraphQL client sees beside the message (graphql-core reads this)."""
        return {
            "code": self.code,
            "retryable": self.retryable,
            **pesan(self.code),
            **pesan_detail(self.message),
        }


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
