"""A third-party Open311 client reads the hub: ``georeport`` (PyPI), which parses the
XML answers with ``xmltodict``, against the hub served by uvicorn on a loopback port.

``georeport`` reads only (services, definitions, requests); it cannot submit, so a
request is submitted the way any Open311 app posts its form, and the client then
follows it to completion in both formats. (The other Open311 clients on PyPI,
``open311`` 1.1 and ``three`` 0.8, are Python 2 code that does not import on 3.11.)
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from georeport import GeoReport
from starlette.applications import Starlette

from hub.settings import Settings
from schema.topics import TOPICS
from tests.fixtures.app import GraphQLClient, served
from tests.hub.open311.helpers import SPEC_REQUEST, client_key, form
from tests.hub.operations import COMPLETE, DISPOSE, FOLLOW_UP, VERIFY, key


def _one(found: Any) -> dict[str, Any]:
    """xmltodict gives a lone element as a dict, several as a list; JSON always a list."""
    if isinstance(found, list):
        assert len(found) == 1, found
        found = found[0]
    assert isinstance(found, dict)
    return found


async def _follow(client: GeoReport, request_id: str) -> dict[str, Any]:
    one = await asyncio.to_thread(client.get_service_request, request_id)
    assert isinstance(one, dict)
    listed = await asyncio.to_thread(client.get_service_requests, service_request_id=request_id)
    assert _one(listed) == one
    return one


async def test_georeport_follows_a_request_to_completion(
    app: Starlette, settings: Settings, gql: GraphQLClient
) -> None:
    api_key = await client_key(app, "palembang-vendor", "16.71", ["node:16.71:write"])
    async with served(settings) as graphql_url:
        root = graphql_url.removesuffix("/graphql") + "/open311/v2"
        clients = {
            fmt: GeoReport(root, jurisdiction="16.71", output_format=fmt) for fmt in ("json", "xml")
        }
        for client in clients.values():
            listed = await asyncio.to_thread(client.get_service_list)
            assert [s["service_code"] for s in listed] == [str(t.id) for t in TOPICS]
            definition = await asyncio.to_thread(client.get_service_definition, "301")
            assert definition["service_code"] == "301"
            attributes = definition["attributes"]
            # xmltodict nests a list under its item element, JSON does not.
            if isinstance(attributes, dict):
                attributes = attributes["attribute"]
            assert [a["code"] for a in attributes][:2] == ["kind", "complaint_sub_kind"]

        async with httpx.AsyncClient() as http:
            created = await http.post(f"{root}/requests.json", data=form(api_key))
        assert created.status_code == 200, created.text
        request_id = created.json()[0]["service_request_id"]

        as_json = await _follow(clients["json"], request_id)
        as_xml = await _follow(clients["xml"], request_id)
        assert list(as_json) == SPEC_REQUEST
        assert list(as_xml) == SPEC_REQUEST
        assert (as_json["status"], as_xml["status"]) == ("open", "open")
        assert as_xml["status_notes"] == "[SP4N:SUBMITTED] Belum Terverifikasi"
        # Every value of the JSON answer reads the same in XML (absent ones are empty).
        spelled = {k: None if v is None else str(v) for k, v in as_json.items()}
        assert as_xml == spelled

        v = (await gql.data(VERIFY, id=request_id, v=1, key=key()))["verifyReport"]["version"]
        d = await gql.data(DISPOSE, id=request_id, v=v, key=key(), to="opd-16-pubmtr")
        f = await gql.data(
            FOLLOW_UP, id=request_id, v=d["disposeReport"]["version"], key=key(),
            content="Lubang sudah ditambal.",
        )  # fmt: skip
        await gql.data(COMPLETE, id=request_id, v=f["addFollowUp"]["version"], key=key())

        for client in clients.values():
            done = await _follow(client, request_id)
            assert done["status"] == "closed"
            assert done["status_notes"] == "[SP4N:COMPLETED] Selesai"
            closed = await asyncio.to_thread(client.get_service_requests, status="closed")
            assert _one(closed)["service_request_id"] == request_id
