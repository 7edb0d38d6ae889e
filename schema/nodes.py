"""The 19 federation members: 17 kabupaten/kota, the province and the national system."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from schema.regions import PROVINCE_CODE, REGENCIES, RegionType


class NodeLevel(enum.Enum):
    REGENCY = "REGENCY"
    PROVINCE = "PROVINCE"
    NATIONAL = "NATIONAL"


@dataclass(frozen=True, slots=True)
class Node:
    code: str
    """Node code: the Kemendagri region code, or ``lapor`` for the national system."""
    name: str
    level: NodeLevel
    region_code: str | None


NATIONAL_NODE = "lapor"


def _regency_node_name(name: str, kind: RegionType) -> str:
    prefix = "Kota" if kind is RegionType.KOTA else "Kabupaten"
    return f"Pengaduan {prefix} {name}"


NODES: tuple[Node, ...] = (
    *(
        Node(r.code, _regency_node_name(r.name, r.type), NodeLevel.REGENCY, r.code)
        for r in REGENCIES
    ),
    Node(PROVINCE_CODE, "Diskominfo Provinsi Sumatera Selatan", NodeLevel.PROVINCE, PROVINCE_CODE),
    Node(NATIONAL_NODE, "SP4N-LAPOR! Nasional", NodeLevel.NATIONAL, None),
)
