"""Service requests: a report as Open311 shows it, the ``GET requests`` filters, and a
``POST requests`` form as the domain's submit command.

The mapping (DOMAIN.md): a report not yet completed or archived is ``open``, a
COMPLETED or ARCHIVED one ``closed``; ``status_notes`` carries the canonical state as
the hub's own Open311 connector writes it (``[SP4N:DISPOSED] Terdisposisi``);
``agency_responsible`` is the institution holding it now; ``expected_datetime`` the
due time of the SLA stage it waits on (``hub.ministry.deadlines``). No reporter
identity is ever shown: Open311 has no field for it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from connectors.open311 import status_note
from hub.domain.commands import Reporter, Submit
from hub.ministry.deadlines import ReportDeadlines
from hub.open311.formats import Open311Error
from hub.open311.services import JURISDICTIONS, SERVICES, service_name
from hub.security.privacy import Viewer
from hub.store.rows import ReportRow
from schema.calendar import WIB
from schema.lifecycle import ReportState
from schema.report import Channel, ComplaintSubKind, PrivacyFlags, ReportKind

CLOSED = frozenset({ReportState.COMPLETED, ReportState.ARCHIVED})
"""The states Open311 calls ``closed``; every other is ``open``."""
STATUSES = {
    "open": tuple(s.value for s in ReportState if s not in CLOSED),
    "closed": tuple(s.value for s in ReportState if s in CLOSED),
}
MAX_WINDOW = timedelta(days=90)
"""The spec's longest ``start_date``..``end_date``, and the window when none is given."""
MAX_PAGE_SIZE = 1000
"""The spec's default limit of one answer; ``page_size`` may ask for fewer."""
DESCRIPTION_LIMIT = 4000


def _when(moment: datetime | None) -> str | None:
    """A W3C date-time with its offset, in WIB."""
    return None if moment is None else moment.astimezone(WIB).isoformat(timespec="seconds")


def as_request(row: ReportRow, deadlines: ReportDeadlines | None) -> dict[str, object]:
    """One ``<request>`` of ``GET requests``, in the spec's order."""
    active = deadlines.active if deadlines is not None else None
    topic = SERVICES.get(str(row.topic_id))
    return {
        "service_request_id": str(row.id),
        "status": "closed" if row.state in CLOSED else "open",
        "status_notes": status_note(row.state),
        "service_name": service_name(topic) if topic else str(row.topic_id),
        "service_code": str(row.topic_id),
        "description": row.content,
        "agency_responsible": row.institution_name,
        "service_notice": None,
        "requested_datetime": _when(row.submitted_at),
        "updated_datetime": _when(row.updated_at),
        "expected_datetime": _when(active.due_at if active else None),
        "address": row.location,
        "address_id": None,
        "zipcode": None,
        "lat": row.latitude,
        "long": row.longitude,
        "media_url": None,
    }


@dataclass(frozen=True, slots=True)
class RequestFilter:
    """``GET requests``' parameters as the query's arguments."""

    ids: list[uuid.UUID] | None
    topic_ids: list[int] | None
    start: datetime | None
    end: datetime | None
    states: list[str] | None
    region_code: str | None
    page_size: int
    page: int

    def params(self, viewer: Viewer) -> tuple[object, ...]:
        """``open311_requests``' arguments, the reports ``viewer`` may not see left out."""
        offset = (self.page - 1) * self.page_size
        return (
            self.ids, self.topic_ids, self.start, self.end, self.states, self.region_code,
            viewer.sees_everything, sorted(viewer.nodes), self.page_size, offset,
        )  # fmt: skip


def _moment(name: str, value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise Open311Error(
            400, f"{name} must be a W3C date-time such as 2026-12-01T00:00:00+07:00"
        ) from None
    if moment.tzinfo is None:
        raise Open311Error(400, f"{name} needs its UTC offset (Z or +07:00)")
    return moment


def _number(name: str, value: str | None, default: int, high: int) -> int:
    if value is None:
        return default
    if not value.isdigit() or not 1 <= int(value) <= high:
        raise Open311Error(400, f"{name} must be a whole number from 1 to {high}")
    return int(value)


def jurisdiction(value: str | None) -> str | None:
    """A given ``jurisdiction_id``: a region code, or 404."""
    if value is None or value == "":
        return None
    if value not in JURISDICTIONS:
        raise Open311Error(404, f"jurisdiction_id {value!r} not found: use a Kemendagri "
                           "region code of Sumatera Selatan, such as 16 or 16.71")  # fmt: skip
    return value


def topic_of(code: str) -> int:
    """A service code's topic id, or 404."""
    if code not in SERVICES:
        raise Open311Error(404, f"service_code {code!r} not found; GET services lists them")
    return SERVICES[code].id


def request_filter(query: Mapping[str, str], now: datetime) -> RequestFilter:
    """The filters of ``GET requests``. ``service_request_id`` overrides the others, as
    the spec says; otherwise requests of at most 90 days (by ``requested_datetime``),
    the last 90 days by default."""
    page_size = _number("page_size", query.get("page_size"), MAX_PAGE_SIZE, MAX_PAGE_SIZE)
    page = _number("page", query.get("page"), 1, 1_000_000)
    region = jurisdiction(query.get("jurisdiction_id"))
    if query.get("service_request_id"):
        ids = []
        for given in query["service_request_id"].split(","):
            try:
                ids.append(uuid.UUID(given.strip()))
            except ValueError:
                raise Open311Error(400, f"{given!r} is not a service_request_id") from None
        return RequestFilter(ids, None, None, None, None, None, page_size, page)
    topics = None
    if query.get("service_code"):
        topics = [topic_of(code.strip()) for code in query["service_code"].split(",")]
    states = None
    if query.get("status"):
        wanted = [s.strip() for s in query["status"].split(",")]
        unknown = [s for s in wanted if s not in STATUSES]
        if unknown:
            raise Open311Error(400, f"status must be open or closed, not {unknown[0]!r}")
        states = [state for s in dict.fromkeys(wanted) for state in STATUSES[s]]
    start = _moment("start_date", query["start_date"]) if query.get("start_date") else None
    end = _moment("end_date", query["end_date"]) if query.get("end_date") else None
    if start is None and end is None:
        end = now
    if start is None:
        assert end is not None
        start = end - MAX_WINDOW
    if end is None:
        end = start + MAX_WINDOW
    if end < start:
        raise Open311Error(400, "end_date is before start_date")
    if end - start > MAX_WINDOW:
        raise Open311Error(400, "start_date to end_date spans more than 90 days")
    return RequestFilter(None, topics, start, end, states, region, page_size, page)


_NO = ("", "false", "0", "no")
_YES = ("true", "1", "yes")


def _flag(form: Mapping[str, str], name: str) -> bool:
    value = form.get(f"attribute[{name}]", "").strip().lower()
    if value not in _NO + _YES:
        raise Open311Error(400, f"attribute[{name}] must be true or false")
    return value in _YES


def _choice(form: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str | None:
    value = form.get(f"attribute[{name}]", "").strip()
    if not value:
        return None
    if value not in allowed:
        raise Open311Error(400, f"attribute[{name}] must be one of {', '.join(allowed)}")
    return value


def _coordinate(form: Mapping[str, str], name: str) -> float | None:
    value = form.get(name, "").strip()
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise Open311Error(400, f"{name} must be a decimal number (WGS84)") from None


def submission(form: Mapping[str, str], region_code: str) -> Submit:
    """The submit command a ``POST requests`` form asks for, or a 400/404 naming the
    first field that is wrong (the command's own checks run after, in the service)."""
    code = form.get("service_code", "").strip()
    if not code:
        raise Open311Error(400, "service_code is required")
    topic_id = topic_of(code)
    lat, lon = _coordinate(form, "lat"), _coordinate(form, "long")
    address = form.get("address_string", "").strip() or None
    if (lat is None or lon is None) and address is None:
        raise Open311Error(400, "lat and long, or address_string, is required")
    description = form.get("description", "").strip()
    if not description:
        raise Open311Error(400, "description is required: the hub records what happened")
    if len(description) > DESCRIPTION_LIMIT:
        raise Open311Error(400, f"description is over {DESCRIPTION_LIMIT} characters")
    kind = ReportKind(
        _choice(form, "kind", tuple(k.value for k in ReportKind)) or ReportKind.COMPLAINT.value
    )
    sub = _choice(form, "complaint_sub_kind", tuple(k.value for k in ComplaintSubKind))
    if sub is None and kind is ReportKind.COMPLAINT:
        sub = ComplaintSubKind.NON_SUPERVISORY.value
    name = service_name(SERVICES[code])
    # A title given is checked by the command (200 at most); one made up is cut to fit.
    title = (
        form.get("attribute[title]", "").strip()
        or (f"{name} di {address}" if address else name)[:200]
    )
    names = (form.get("first_name", "").strip(), form.get("last_name", "").strip())
    person = Reporter(
        name=" ".join(n for n in names if n) or None,
        phone=form.get("phone", "").strip() or None,
        email=form.get("email", "").strip() or None,
    )
    return Submit(
        kind=kind,
        complaint_sub_kind=ComplaintSubKind(sub) if sub else None,
        title=title,
        content=description,
        region_code=region_code,
        topic_id=topic_id,
        channel=Channel.INTEGRATED_APP,
        location=address,
        latitude=lat,
        longitude=lon,
        privacy=PrivacyFlags(_flag(form, "anonymous"), _flag(form, "confidential")),
        reporter=person if person != Reporter() else None,
    )
