"""A sandbox Open311 GeoReport v2 server (JSON), one per city under ``/{node}``.

GET is public, as in the spec; POST needs the node's ``api_key``. Besides the
six methods it has the ``page``/``page_size`` and ``updated_after``/
``updated_before`` extensions, ``servicerequestupdates`` for write-back (POST,
refused with 409 when ``expected_updated_datetime`` is given and the request has
changed since) and for listing a request's updates (GET), ``extended_attributes`` showing the
hub's ``sp4n_report_id`` and the reporter's ``citizen_replies`` and ``citizen_rating``,
and an ``attribute[sp4n_report_id]`` filter.
"""

from __future__ import annotations

import random
from datetime import timedelta
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors.sandbox.common import TOPIC_NAMES, Backend, int_param, iso, ok, parse_time
from connectors.sandbox.data import OPEN311_SERVICES, new_report
from connectors.sandbox.faults import corrupt
from connectors.sandbox.store import NodeSystem, SandboxReport, UnknownLabel

MAX_WINDOW = timedelta(days=90)


# Every city also has a catch-all service, for reports that fit no other.
OTHER = "LAINNYA"
SERVICES = {
    **{code: TOPIC_NAMES[topic.topic_id] for code, topic in OPEN311_SERVICES.items()},
    OTHER: "Pengaduan Lainnya",
}


def render(r: SandboxReport) -> dict[str, object]:
    attributes: dict[str, object] = {"sp4n_report_id": r.hub_id} if r.hub_id else {}
    if r.replies:
        attributes["citizen_replies"] = [
            {"reply_id": b.id, "description": b.content, "datetime": iso(b.at)} for b in r.replies
        ]
    if r.rating:
        attributes["citizen_rating"] = {"score": r.rating[0], "comment": r.rating[1]}
    extended = {"extended_attributes": attributes} if attributes else {}
    return extended | {
        "service_request_id": r.id,
        "status": r.status,
        "status_notes": r.note,
        "service_name": SERVICES.get(r.category, TOPIC_NAMES[r.topic_id]),
        "service_code": r.category,
        "description": r.content,
        "agency_responsible": r.institution,
        "service_notice": None,
        "requested_datetime": iso(r.created_at),
        "updated_datetime": iso(r.updated_at),
        "expected_datetime": None,
        "address": r.location,
        "address_id": None,
        "zipcode": None,
        "lat": r.lat,
        "long": r.lon,
        "media_url": r.attachments[0].url if r.attachments else None,
    }


def _error(status: int, description: str) -> JSONResponse:
    return JSONResponse([{"code": status, "description": description}], status_code=status)


async def _form(request: Request, backend: Backend, system: NodeSystem) -> dict[str, str]:
    try:
        raw = await request.body()
    except ClientDisconnect:
        raise HTTPException(400, "the client disconnected") from None
    form = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
    if form.get("api_key") != backend.tokens[system.code]:
        raise HTTPException(403, "api_key is missing or wrong")
    return form


def build_app(backend: Backend) -> Starlette:
    async def services(request: Request) -> Response:
        await backend.enter(request, auth=False)
        return ok(
            [
                {
                    "service_code": code,
                    "service_name": name,
                    "description": name,
                    "metadata": True,
                    "type": "realtime",
                    "keywords": "",
                    "group": "Pengaduan",
                }
                for code, name in SERVICES.items()
            ]
        )

    async def service(request: Request) -> Response:
        await backend.enter(request, auth=False)
        code = request.path_params["code"]
        if code not in SERVICES:
            return _error(404, f"no service {code}")
        attribute = {
            "variable": True, "code": "sp4n_report_id", "datatype": "string",
            "required": False, "datatype_description": "ID laporan di hub SP4N Sumsel",
            "order": 1, "description": "ID laporan SP4N",
        }  # fmt: skip
        return ok({"service_code": code, "attributes": [attribute]})

    async def requests(request: Request) -> Response:
        system = await backend.enter(request, auth=False)
        q = request.query_params
        updated_after = parse_time(q.get("updated_after"), "updated_after")
        found = system.updated_since(updated_after) if updated_after else system.by_update()
        if "service_request_id" in q:
            wanted = set(q["service_request_id"].split(","))
            found = [r for r in found if r.id in wanted]
        elif "attribute[sp4n_report_id]" in q:
            found = [r for r in system.by_seq() if r.hub_id == q["attribute[sp4n_report_id]"]]
        else:
            for low, high, attr in (
                ("start_date", "end_date", "created_at"),
                ("updated_after", "updated_before", "updated_at"),
            ):
                lo, hi = parse_time(q.get(low), low), parse_time(q.get(high), high)
                if lo and hi and hi - lo > MAX_WINDOW:
                    return _error(400, f"{low} to {high} spans more than 90 days")
                found = [
                    r for r in found
                    if (lo is None or getattr(r, attr) >= lo)
                    and (hi is None or getattr(r, attr) <= hi)
                ]  # fmt: skip
            if "service_code" in q:
                found = [r for r in found if r.category == q["service_code"]]
            if "status" in q:
                found = [r for r in found if r.status in q["status"].split(",")]
            size = int_param(request, "page_size", 1000, 1000)
            page = int_param(request, "page", 1, 1_000_000)
            found = found[(page - 1) * size : page * size]
        body = [render(r) for r in found]
        if backend.faults.malformed(system.code):
            corrupt(body, ("updated_datetime",))
        return ok(body)

    async def one(request: Request) -> Response:
        system = await backend.enter(request, auth=False)
        report = system.reports.get(request.path_params["id"])
        if report is None:
            return _error(404, "no such service request")
        return ok([render(report)])

    async def create(request: Request) -> Response:
        system = await backend.enter(request, auth=False)
        form = await _form(request, backend, system)
        code = form.get("service_code", "")
        if code not in SERVICES:
            return _error(400, "service_code is missing or unknown")
        if not (("lat" in form and "long" in form) or "address_string" in form):
            return _error(400, "lat and long, or address_string, is required")
        description = form.get("description", "")
        if len(description) > 4000:
            return _error(400, "description is longer than 4000 characters")

        def make(report_id: str) -> SandboxReport:
            report = new_report(
                random.Random(report_id), system.code, "open311", system.vocabulary, report_id,
                system.code, created=system.stamp(),
            )  # fmt: skip
            report.category = code
            if code in OPEN311_SERVICES:
                report.topic_id = OPEN311_SERVICES[code].topic_id
            report.content = description or SERVICES[code]
            report.location = form.get("address_string", report.location)
            report.attachments = []
            return report

        hub_id = form.get("attribute[sp4n_report_id]")
        report = system.create(hub_id, make) if hub_id else system.add(make(system.next_id()))
        return ok([{"service_request_id": report.id, "service_notice": "Terima kasih"}], 201)

    async def update(request: Request) -> Response:
        system = await backend.enter(request, auth=False)
        form = await _form(request, backend, system)
        for name in ("service_request_id", "status", "update_id"):
            if not form.get(name):
                return _error(400, f"{name} is required")
        report = system.reports.get(form["service_request_id"])
        if report is None:
            return _error(404, "no such service request")
        system.interleave("writing", report)
        expected = form.get("expected_updated_datetime")
        repeated = system.applied(form["update_id"])
        if expected and not repeated and expected != iso(report.updated_at):
            return _error(409, "the service request changed since expected_updated_datetime")
        try:
            report = system.write(
                form["service_request_id"], form["status"], form.get("description", ""),
                form["update_id"], form.get("agency_responsible"),
            )  # fmt: skip
        except KeyError:
            return _error(404, "no such service request")
        except UnknownLabel:
            return _error(400, "status must be open or closed")
        return ok([{"update_id": form["update_id"], "service_request_id": report.id}])

    async def updates(request: Request) -> Response:
        system = await backend.enter(request, auth=False)
        report = system.reports.get(request.query_params.get("service_request_id", ""))
        if report is None:
            return _error(404, "no such service request")
        return ok(
            [
                {"update_id": u.event_id, "service_request_id": report.id, "status": u.status,
                 "description": u.note, "agency_responsible": u.institution,
                 "updated_datetime": iso(u.at)}
                for u in report.updates
            ]
        )  # fmt: skip

    return Starlette(
        routes=[
            Route("/{node}/services.json", services),
            Route("/{node}/services/{code}.json", service),
            Route("/{node}/requests.json", requests, methods=["GET"]),
            Route("/{node}/requests.json", create, methods=["POST"]),
            Route("/{node}/requests/{id}.json", one),
            Route("/{node}/servicerequestupdates.json", update, methods=["POST"]),
            Route("/{node}/servicerequestupdates.json", updates, methods=["GET"]),
        ]
    )
