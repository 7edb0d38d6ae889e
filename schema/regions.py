"""South Sumatra's regions with both their Kemendagri and BPS codes.

The two code lists differ for five regencies, so both are stored and neither is
derived from the other. Kemendagri is the primary key (NIK and SIPD use it).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class RegionType(enum.Enum):
    PROVINCE = "PROVINCE"
    KABUPATEN = "KABUPATEN"
    KOTA = "KOTA"


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    """Kemendagri code, e.g. ``16.71``."""
    bps_code: str
    name: str
    type: RegionType
    parent_code: str | None


PROVINCE_CODE = "16"

_K, _C = RegionType.KABUPATEN, RegionType.KOTA

REGIONS: tuple[Region, ...] = (
    Region("16", "16", "Sumatera Selatan", RegionType.PROVINCE, None),
    Region("16.01", "1601", "Ogan Komering Ulu", _K, "16"),
    Region("16.02", "1602", "Ogan Komering Ilir", _K, "16"),
    Region("16.03", "1603", "Muara Enim", _K, "16"),
    Region("16.04", "1604", "Lahat", _K, "16"),
    Region("16.05", "1605", "Musi Rawas", _K, "16"),
    Region("16.06", "1606", "Musi Banyuasin", _K, "16"),
    Region("16.07", "1607", "Banyuasin", _K, "16"),
    Region("16.08", "1609", "Ogan Komering Ulu Timur", _K, "16"),
    Region("16.09", "1608", "Ogan Komering Ulu Selatan", _K, "16"),
    Region("16.10", "1610", "Ogan Ilir", _K, "16"),
    Region("16.11", "1611", "Empat Lawang", _K, "16"),
    Region("16.12", "1612", "Penukal Abab Lematang Ilir", _K, "16"),
    Region("16.13", "1613", "Musi Rawas Utara", _K, "16"),
    Region("16.71", "1671", "Palembang", _C, "16"),
    Region("16.72", "1673", "Pagar Alam", _C, "16"),
    Region("16.73", "1674", "Lubuk Linggau", _C, "16"),
    Region("16.74", "1672", "Prabumulih", _C, "16"),
)

REGENCIES: tuple[Region, ...] = tuple(r for r in REGIONS if r.type is not RegionType.PROVINCE)
