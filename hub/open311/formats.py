"""GeoReport v2's two formats: XML (the spec's required one) and JSON, chosen by the
resource's suffix (``/services.xml``, ``/services.json``), and its error shape.

One body, two spellings: a body is built once as plain values (dicts, lists,
strings, numbers, None) and written as JSON as it is, or as XML with the spec's
element names, each list element holding one child per item (``<services>`` of
``<service>``, ``<attributes>`` of ``<attribute>``...).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Sequence
from xml.etree import ElementTree

from starlette.responses import Response

Body = Mapping[str, object] | Sequence[object]


class Format(enum.Enum):
    XML = "xml"
    JSON = "json"

    @property
    def media_type(self) -> str:
        return "text/xml; charset=utf-8" if self is Format.XML else "application/json"


ITEM_OF = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}
"""Each list's element and the element of one of its items, as the spec names them."""


class Open311Error(Exception):
    """An answer in the spec's error shape: ``[{"code": 400, "description": "..."}]``,
    ``<errors><error><code>400</code>...``; the HTTP status is the code."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def format_of(suffix: str) -> Format:
    """The format a resource's suffix names; an unknown one is answered in XML."""
    try:
        return Format(suffix)
    except ValueError:
        raise Open311Error(404, f"no format {suffix!r}: use .xml or .json") from None


def render(fmt: Format, root: str, body: Body, status: int = 200) -> Response:
    """``body`` in ``fmt``; in XML under the element ``root``."""
    if fmt is Format.JSON:
        text = json.dumps(body, ensure_ascii=False)
        return Response(text.encode(), status, media_type=fmt.media_type)
    element = ElementTree.Element(root)
    _fill(element, body)
    xml = ElementTree.tostring(element, encoding="unicode")
    document = f'<?xml version="1.0" encoding="UTF-8"?>\n{xml}'
    return Response(document.encode(), status, media_type=fmt.media_type)


def error(fmt: Format, failure: Open311Error) -> Response:
    body = [{"code": failure.status, "description": failure.description}]
    return render(fmt, "errors", body, failure.status)


def _fill(element: ElementTree.Element, value: object) -> None:
    if isinstance(value, Mapping):
        for name, child in value.items():
            _fill(ElementTree.SubElement(element, name), child)
    elif isinstance(value, list | tuple):
        item = ITEM_OF[element.tag]
        for child in value:
            _fill(ElementTree.SubElement(element, item), child)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)
