"""What the Open311 tests share: the spec's shapes, a client registered with a secret,
and a form posted the way an Open311 app posts it."""

from __future__ import annotations

import re
from xml.etree import ElementTree

import httpx
from starlette.applications import Starlette

BASE = "/open311/v2"

# The element names and order of the spec's own examples (GeoReport v2, "GET Service
# List", "GET Service Definition", "GET Service Requests", "POST Service Request").
SPEC_SERVICE = [
    "service_code", "service_name", "description", "metadata", "type", "keywords", "group",
]  # fmt: skip
SPEC_ATTRIBUTE = [
    "variable", "code", "datatype", "required", "datatype_description", "order",
    "description",
]  # fmt: skip
SPEC_REQUEST = [
    "service_request_id", "status", "status_notes", "service_name", "service_code",
    "description", "agency_responsible", "service_notice", "requested_datetime",
    "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat",
    "long", "media_url",
]  # fmt: skip
SPEC_CREATED = ["service_request_id", "service_notice", "account_id"]
W3C = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


async def client_key(app: Starlette, client_id: str, node: str | None, scopes: list[str]) -> str:
    """Registers an OAuth2 client; its ``client_id:client_secret``, an Open311 api_key."""
    secret = await app.state.clients.add(client_id, node, scopes)
    return f"{client_id}:{secret}"


def form(api_key: str | None, **fields: str) -> dict[str, str]:
    """A valid POST requests form (a pothole in Palembang); override any field."""
    base = {
        "service_code": "301",
        "address_string": "Jalan Demang Lebar Daun, Palembang",
        "lat": "-2.9761",
        "long": "104.7754",
        "description": "Lubang besar di depan pasar sudah tiga bulan tidak diperbaiki.",
        "first_name": "Siti",
        "last_name": "Aminah",
        "email": "siti.aminah@example.id",
        "phone": "081234567890",
    }
    if api_key is not None:
        base["api_key"] = api_key
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


async def post(
    http: httpx.AsyncClient, fields: dict[str, str], fmt: str = "json"
) -> httpx.Response:
    return await http.post(f"{BASE}/requests.{fmt}", data=fields)


def xml(response: httpx.Response) -> ElementTree.Element:
    assert response.headers["content-type"].startswith("text/xml"), response.headers
    assert response.text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    return ElementTree.fromstring(response.content)


def tags(element: ElementTree.Element) -> list[str]:
    return [child.tag for child in element]


def error_of(response: httpx.Response) -> tuple[int, str]:
    """(code, description) of the spec's error answer, JSON or XML, checked against the
    HTTP status."""
    if response.headers["content-type"].startswith("text/xml"):
        root = xml(response)
        assert root.tag == "errors"
        (only,) = list(root)
        assert tags(only) == ["code", "description"]
        code, description = int(only.findtext("code") or 0), only.findtext("description") or ""
    else:
        (body,) = response.json()
        assert set(body) == {"code", "description"}
        code, description = body["code"], body["description"]
    assert code == response.status_code
    return code, description
