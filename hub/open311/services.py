"""The hub's Open311 services: the topic tree of ``schema/topics.py`` as service codes,
and the attributes a submission may carry beyond the spec's own fields.

Every topic is a service (its id the code, its root topic the group), so a report
that fits no sub-topic can still name its field (``1``, Kesehatan). Every topic
needs the same attributes: what kind of report it is and, for a complaint, its
sub-kind (they set the completion limit), a title (Open311 has none) and the two
privacy flags. All are optional, so a vendor app that knows nothing of them files
an ordinary complaint (``COMPLAINT``, ``NON_SUPERVISORY``) titled by its service and
place.
"""

from __future__ import annotations

from collections.abc import Mapping

from schema.regions import REGIONS
from schema.report import ComplaintSubKind, ReportKind
from schema.topics import TOPICS, Topic

SERVICES: Mapping[str, Topic] = {str(t.id): t for t in TOPICS}
"""Service code -> topic."""
_BY_ID = {t.id: t for t in TOPICS}

JURISDICTIONS = frozenset(r.code for r in REGIONS)
"""A ``jurisdiction_id`` is a Kemendagri region code: the province or one of its 17."""

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-07T00:00:00+07:00"
"""When the services or attributes last changed (the discovery's ``changeset``)."""

KIND_LABELS = {
    ReportKind.COMPLAINT: "Pengaduan",
    ReportKind.ASPIRATION: "Aspirasi",
    ReportKind.INFORMATION_REQUEST: "Permintaan Informasi",
}
SUB_KIND_LABELS = {
    ComplaintSubKind.NON_SUPERVISORY: "Tidak berkadar pengawasan",
    ComplaintSubKind.SUPERVISORY: "Berkadar pengawasan (perlu pemeriksaan)",
}
FLAG_VALUES = {"false": "Tidak", "true": "Ya"}


def _group(topic: Topic) -> Topic:
    return topic if topic.parent_id is None else _BY_ID[topic.parent_id]


def service_name(topic: Topic) -> str:
    return topic.name


def service(topic: Topic) -> dict[str, object]:
    """One entry of ``GET services``."""
    group = _group(topic)
    path = topic.name if group is topic else f"{group.name} - {topic.name}"
    return {
        "service_code": str(topic.id),
        "service_name": service_name(topic),
        "description": f"Laporan tentang {path}",
        "metadata": True,
        "type": "realtime",
        "keywords": ", ".join(dict.fromkeys((topic.name, group.name))),
        "group": group.name,
    }


def services() -> list[dict[str, object]]:
    return [service(t) for t in TOPICS]


def _list(
    order: int, code: str, description: str, note: str, values: Mapping[str, str]
) -> dict[str, object]:
    return {
        "variable": True,
        "code": code,
        "datatype": "singlevaluelist",
        "required": False,
        "datatype_description": note,
        "order": order,
        "description": description,
        "values": [{"key": k, "name": name} for k, name in values.items()],
    }


ATTRIBUTES: tuple[dict[str, object], ...] = (
    _list(
        1, "kind", "Jenis laporan", "Default COMPLAINT.",
        {k.value: label for k, label in KIND_LABELS.items()},
    ),
    _list(
        2, "complaint_sub_kind", "Sifat pengaduan",
        "Only for a COMPLAINT; default NON_SUPERVISORY.",
        {k.value: label for k, label in SUB_KIND_LABELS.items()},
    ),
    {
        "variable": True, "code": "title", "datatype": "string", "required": False,
        "datatype_description": "At most 200 characters; default: the service and the address.",
        "order": 3, "description": "Judul laporan",
    },
    _list(4, "anonymous", "Rahasiakan identitas pelapor (anonim)", "Default false.",
          FLAG_VALUES),
    _list(5, "confidential", "Rahasiakan laporan (rahasia)", "Default false.", FLAG_VALUES),
)  # fmt: skip


def definition(topic: Topic) -> dict[str, object]:
    """``GET services/{code}``: the attributes a request of this service may carry."""
    return {"service_code": str(topic.id), "attributes": list(ATTRIBUTES)}


def discovery(url: str) -> dict[str, object]:
    """The service discovery document of this endpoint (at ``url``)."""
    return {
        "changeset": CHANGESET,
        "contact": "Diskominfo Provinsi Sumatera Selatan, hub SP4N-LAPOR! Sumsel",
        "key_service": "api_key: an OAuth2 client of the hub (client_id:client_secret) "
        "or its bearer token from /oauth/token; submitting needs a node:<code>:write scope",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": url,
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
