"""Open311 GeoReport v2 at /open311/v2/, over HTTP on the real app: the spec's shapes
in JSON and XML, a request submitted and followed to completion, privacy, and bad
input refused with the spec's errors and nothing written."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from starlette.applications import Starlette

from schema.topics import TOPICS
from tests.fixtures.app import GraphQLClient, token_for
from tests.hub.open311.helpers import (
    BASE,
    SPEC_ATTRIBUTE,
    SPEC_CREATED,
    SPEC_REQUEST,
    SPEC_SERVICE,
    W3C,
    client_key,
    error_of,
    form,
    post,
    tags,
    xml,
)
from tests.hub.operations import COMPLETE, DISPOSE, FOLLOW_UP, VERIFY, key

REPORT = """
query Report($id: ID!) {
  report(id: $id) {
    id state title content regionCode originNodeCode institutionCode confidential
    location latitude topicId reporter { name email }
    history { verb actorNode actorRole }
  }
}
"""


async def _counts(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        return {
            table: await conn.fetchval(f"SELECT count(*) FROM {table}")
            for table in ("reports", "report_history", "outbox", "reporters", "idempotency_keys")
        }
    finally:
        await conn.close()


async def test_services_and_discovery_in_both_formats(http: httpx.AsyncClient) -> None:
    listed = (await http.get(f"{BASE}/services.json")).json()
    assert [s["service_code"] for s in listed] == [str(t.id) for t in TOPICS]
    road = next(s for s in listed if s["service_code"] == "301")
    assert list(road) == SPEC_SERVICE
    assert (road["service_name"], road["group"], road["metadata"]) == (
        "Jalan Rusak", "Infrastruktur", True,
    )  # fmt: skip

    root = xml(await http.get(f"{BASE}/services.xml"))
    assert root.tag == "services"
    assert len(root) == len(TOPICS)
    assert all(item.tag == "service" and tags(item) == SPEC_SERVICE for item in root)
    assert root[0].findtext("metadata") == "true"

    definition = (await http.get(f"{BASE}/services/301.json")).json()
    assert definition["service_code"] == "301"
    codes = [a["code"] for a in definition["attributes"]]
    assert codes == ["kind", "complaint_sub_kind", "title", "anonymous", "confidential"]
    for attribute in definition["attributes"]:
        assert [f for f in attribute if f != "values"] == SPEC_ATTRIBUTE
    kind = definition["attributes"][0]
    assert kind["datatype"] == "singlevaluelist"
    assert {v["key"] for v in kind["values"]} == {"COMPLAINT", "ASPIRATION", "INFORMATION_REQUEST"}

    root = xml(await http.get(f"{BASE}/services/301.xml"))
    assert root.tag == "service_definition"
    assert tags(root) == ["service_code", "attributes"]
    first = root.find("attributes/attribute")
    assert first is not None
    assert tags(first) == [*SPEC_ATTRIBUTE, "values"]
    assert [tags(v) for v in first.iterfind("values/value")] == [["key", "name"]] * 3

    found = await http.get(f"{BASE}/services/999.xml")
    assert found.status_code == 404
    assert "999" in error_of(found)[1]

    discovery = (await http.get(f"{BASE}/discovery.json")).json()
    (endpoint,) = discovery["endpoints"]
    assert endpoint["url"] == "http://hub.test/open311/v2"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    root = xml(await http.get(f"{BASE}/discovery.xml"))
    assert [f.text for f in root.iterfind("endpoints/endpoint/formats/format")] == [
        "text/xml", "application/json",
    ]  # fmt: skip


async def test_a_request_is_submitted_and_followed_to_completion(
    app: Starlette, http: httpx.AsyncClient, gql: GraphQLClient, database_url: str
) -> None:
    api_key = await client_key(app, "palembang-o311", "16.71", ["node:16.71:write"])
    created = await post(http, form(api_key))
    assert created.status_code == 200, created.text
    (answer,) = created.json()
    assert list(answer) == SPEC_CREATED
    request_id = answer["service_request_id"]

    # The one write path: a report of Palembang, by its node's own system, audited,
    # with its event in the outbox.
    report = (await gql.data(REPORT, id=request_id))["report"]
    assert report["state"] == "SUBMITTED"
    assert (report["regionCode"], report["originNodeCode"], report["topicId"]) == (
        "16.71", "16.71", 301,
    )  # fmt: skip
    assert report["title"] == "Jalan Rusak di Jalan Demang Lebar Daun, Palembang"
    assert report["content"].startswith("Lubang besar")
    assert report["reporter"] == {"name": "Siti Aminah", "email": "siti.aminah@example.id"}
    assert report["history"] == [
        {"verb": "SUBMIT", "actorNode": "16.71", "actorRole": "NODE_SYSTEM"}
    ]
    conn = await asyncpg.connect(database_url)
    try:
        events = await conn.fetch(
            "SELECT event_type FROM outbox WHERE report_id = $1", uuid.UUID(request_id)
        )
        audited = await conn.fetch(
            "SELECT client_id, action, outcome FROM audit_log WHERE report_id = $1",
            uuid.UUID(request_id),
        )
    finally:
        await conn.close()
    assert [e["event_type"] for e in events] == ["id.go.sp4n.report.submitted.v1"]
    assert ("palembang-o311", "SUBMIT", "OK") in [tuple(a) for a in audited]

    # Anyone can follow it: open, the canonical state in the notes, due to be verified.
    (shown,) = (await http.get(f"{BASE}/requests/{request_id}.json")).json()
    assert list(shown) == SPEC_REQUEST
    assert shown["status"] == "open"
    assert shown["status_notes"] == "[SP4N:SUBMITTED] Belum Terverifikasi"
    assert shown["agency_responsible"] == "Pemerintah Kota Palembang"
    assert (shown["service_code"], shown["service_name"]) == ("301", "Jalan Rusak")
    assert (shown["lat"], shown["long"]) == (-2.9761, 104.7754)
    for field in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert W3C.match(shown[field]), shown[field]
    expected = datetime.fromisoformat(shown["expected_datetime"])
    requested = datetime.fromisoformat(shown["requested_datetime"])
    # Verification is due within 3 working days: 3 to 7 calendar days.
    assert timedelta(days=2) < expected - requested < timedelta(days=8)

    # The province moves it on through GraphQL, to completion.
    v = (await gql.data(VERIFY, id=request_id, v=1, key=key()))["verifyReport"]["version"]
    disposed = await gql.data(DISPOSE, id=request_id, v=v, key=key(), to="opd-16-pubmtr")
    v = disposed["disposeReport"]["version"]
    (moving,) = (await http.get(f"{BASE}/requests/{request_id}.json")).json()
    assert moving["status"] == "open"
    assert moving["status_notes"] == "[SP4N:DISPOSED] Terdisposisi"
    assert moving["agency_responsible"] == "Dinas Pekerjaan Umum Bina Marga dan Tata Ruang"
    assert moving["expected_datetime"] is not None
    done = await gql.data(FOLLOW_UP, id=request_id, v=v, key=key(), content="Sudah ditambal.")
    v = done["addFollowUp"]["version"]
    await gql.data(COMPLETE, id=request_id, v=v, key=key())

    root = xml(await http.get(f"{BASE}/requests/{request_id}.xml"))
    assert root.tag == "service_requests"
    (closed,) = list(root)
    assert closed.tag == "request"
    assert tags(closed) == SPEC_REQUEST
    assert closed.findtext("status") == "closed"
    assert closed.findtext("status_notes") == "[SP4N:COMPLETED] Selesai"
    assert closed.findtext("expected_datetime") == ""  # no stage runs any more
    listed = (await http.get(f"{BASE}/requests.json", params={"status": "closed"})).json()
    assert [r["service_request_id"] for r in listed] == [request_id]
    still_open = (await http.get(f"{BASE}/requests.json", params={"status": "open"})).json()
    assert still_open == []


async def test_a_bearer_token_submits_and_the_answer_comes_in_xml(
    app: Starlette, http: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    token = await token_for(app, "lahat-o311", "16.04", ["node:16.04:write"])
    fields = form(
        token, service_code="101", description="Antrean puskesmas sangat panjang.",
        **{"attribute[kind]": "ASPIRATION", "attribute[title]": "Tambah loket puskesmas"},
    )  # fmt: skip
    del fields["lat"], fields["long"]
    root = xml(await post(http, fields, "xml"))
    assert root.tag == "service_requests"
    (created,) = list(root)
    assert tags(created) == SPEC_CREATED
    request_id = created.findtext("service_request_id")
    report = (await gql.data(REPORT, id=request_id))["report"]
    assert (report["regionCode"], report["title"]) == ("16.04", "Tambah loket puskesmas")
    assert report["latitude"] is None

    # The same form again under one Idempotency-Key is the same report.
    again = {"idempotency-key": "o311-retry-0001"}
    first = await http.post(f"{BASE}/requests.json", data=fields, headers=again)
    second = await http.post(f"{BASE}/requests.json", data=fields, headers=again)
    assert first.json()[0]["service_request_id"] == second.json()[0]["service_request_id"]


async def test_a_confidential_report_never_shows_to_who_may_not_see_it(
    app: Starlette, http: httpx.AsyncClient
) -> None:
    api_key = await client_key(app, "palembang-rahasia", "16.71", ["node:16.71:write"])
    secret_fields = form(
        api_key, description="Pungutan liar di loket KTP kecamatan.",
        first_name="Budi", last_name="Rahasia", email="budi.rahasia@example.id",
        **{"attribute[confidential]": "true"},
    )  # fmt: skip
    hidden = (await post(http, secret_fields)).json()[0]["service_request_id"]
    plain = (await post(http, form(api_key))).json()[0]["service_request_id"]
    other = await token_for(app, "ogan-reader", "16.02", ["node:16.02:read"])
    own = await token_for(app, "palembang-reader", "16.71", ["node:16.71:read"])

    async def answers(token: str | None) -> list[httpx.Response]:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return [
            await http.get(f"{BASE}/requests.json", headers=headers),
            await http.get(f"{BASE}/requests.xml", headers=headers),
            await http.get(f"{BASE}/requests/{hidden}.json", headers=headers),
            await http.get(f"{BASE}/requests/{hidden}.xml", headers=headers),
            await http.get(
                f"{BASE}/requests.json", params={"service_request_id": f"{hidden},{plain}"},
                headers=headers,
            ),
        ]  # fmt: skip

    for outsider in (None, other):
        seen = await answers(outsider)
        listed, listed_xml, one, one_xml, by_id = seen
        assert [r["service_request_id"] for r in listed.json()] == [plain]
        assert [r["service_request_id"] for r in by_id.json()] == [plain]
        assert len(xml(listed_xml)) == 1
        assert error_of(one) == (404, f"service_request_id {hidden!r} not found")
        assert error_of(one_xml)[0] == 404
        for response in seen:
            assert "Pungutan liar" not in response.text
            assert hidden not in response.text.replace(f"'{hidden}'", "")
            for identity in ("Budi", "budi.rahasia", "Siti", "siti.aminah", "081234567890"):
                assert identity not in response.text
    # The involved node (and its api_key) sees it; no reporter identity is ever shown.
    for seen in (await answers(own), await answers(None)):
        for response in seen:
            assert "Budi" not in response.text
            assert "siti.aminah" not in response.text
    mine = await answers(own)
    assert [r["service_request_id"] for r in mine[0].json()] == [plain, hidden]
    assert mine[2].json()[0]["description"] == "Pungutan liar di loket KTP kecamatan."
    with_key = await http.get(f"{BASE}/requests/{hidden}.json", params={"api_key": api_key})
    assert with_key.status_code == 200


async def test_bad_input_is_refused_with_the_specs_errors_and_writes_nothing(
    app: Starlette, http: httpx.AsyncClient, database_url: str
) -> None:
    palembang = await client_key(app, "palembang-bad", "16.71", ["node:16.71:write"])
    province = await client_key(app, "province-app", "16", ["node:16:write"])
    admin = await token_for(app, "province-admin", "16", ["province:admin"])
    reader = await client_key(app, "palembang-ro", "16.71", ["node:16.71:read"])
    gone = await client_key(app, "palembang-gone", "16.71", ["node:16.71:write"])
    assert await app.state.clients.revoke("palembang-gone")
    before = await _counts(database_url)

    async def refused(fields: dict[str, str], fmt: str = "json") -> tuple[int, str]:
        return error_of(await post(http, fields, fmt))

    assert await refused(form(palembang, service_code="999")) == (
        404, "service_code '999' not found; GET services lists them",
    )  # fmt: skip
    assert (await refused(form(palembang, service_code="")))[0] == 400
    for ambiguous in (province, admin):
        code, why = await refused(form(ambiguous), "xml")
        assert code == 400
        assert why.startswith("jurisdiction_id is required")
    assert (await refused(form(palembang, jurisdiction_id="99.99")))[0] == 404
    assert (await refused(form(palembang.split(":")[0] + ":wrong-secret")))[0] == 401
    assert (await refused(form("not-a-token")))[0] == 401
    assert (await refused(form(None)))[0] == 401
    assert (await refused(form(gone)))[0] == 401
    assert (await refused(form(reader)))[0] == 403
    assert (await refused(form(palembang, description="")))[0] == 400
    assert (await refused(form(palembang, description="x" * 4001)))[0] == 400
    assert (await refused(form(palembang, lat="", long="", address_string="")))[0] == 400
    assert (await refused(form(palembang, lat="utara")))[0] == 400
    assert (await refused(form(palembang, **{"attribute[kind]": "GOSSIP"})))[0] == 400
    assert (await refused(form(palembang, **{"attribute[confidential]": "maybe"})))[0] == 400
    assert await refused(form(palembang, **{"attribute[title]": "x" * 201})) == (
        400, "title is 201 characters long; the limit is 200",
    )  # fmt: skip
    # The domain's own checks come back in the spec's shape too.
    assert (await refused(form(palembang, email="not-an-address")))[0] == 400
    as_json = await http.post(f"{BASE}/requests.json", json=form(palembang))
    assert error_of(as_json)[0] == 400
    assert await _counts(database_url) == before

    now = datetime.now(UTC)
    window = {
        "start_date": (now - timedelta(days=91)).isoformat(),
        "end_date": now.isoformat(),
    }
    too_long = await http.get(f"{BASE}/requests.xml", params=window)
    assert error_of(too_long) == (400, "start_date to end_date spans more than 90 days")
    window["start_date"] = (now - timedelta(days=90)).isoformat()
    assert (await http.get(f"{BASE}/requests.json", params=window)).status_code == 200
    for params in (
        {"status": "pending"},
        {"start_date": "2026-12-01"},
        {"start_date": "kemarin"},
        {"page_size": "0"},
        {"service_request_id": "abc"},
    ):
        assert error_of(await http.get(f"{BASE}/requests.json", params=params))[0] == 400
    assert (
        error_of(await http.get(f"{BASE}/requests.json", params={"service_code": "7777"}))[0] == 404
    )
    assert error_of(await http.get(f"{BASE}/requests/{uuid.uuid4()}.json"))[0] == 404
    assert error_of(await http.get(f"{BASE}/services.html"))[0] == 404
    assert error_of(await http.get(f"{BASE}/tokens/abc.json"))[0] == 404


async def test_a_read_only_client_may_not_submit(app: Starlette, http: httpx.AsyncClient) -> None:
    reader = await client_key(app, "prabumulih-ro", "16.74", ["node:16.74:read"])
    token = await token_for(app, "ministry-o311", None, ["ministry:read"])
    for api_key in (reader, token):
        code, why = error_of(await post(http, form(api_key)))
        assert code == 403
        assert "node:<code>:write" in why


def _ids(body: Any) -> list[str]:
    return [r["service_request_id"] for r in body]


async def test_paging_and_filters(app: Starlette, http: httpx.AsyncClient) -> None:
    api_key = await client_key(app, "palembang-pages", "16.71", ["node:16.71:write"])
    made = [
        (await post(http, form(api_key, service_code=code))).json()[0]["service_request_id"]
        for code in ("301", "302", "301")
    ]
    newest_first = list(reversed(made))
    assert _ids((await http.get(f"{BASE}/requests.json")).json()) == newest_first
    pages = [
        _ids((await http.get(f"{BASE}/requests.json", params={"page_size": 2, "page": p})).json())
        for p in (1, 2, 3)
    ]
    assert pages == [newest_first[:2], newest_first[2:], []]
    roads = (await http.get(f"{BASE}/requests.json", params={"service_code": "301"})).json()
    assert _ids(roads) == [made[2], made[0]]
    both = await http.get(f"{BASE}/requests.json", params={"service_code": "301,302"})
    assert _ids(both.json()) == newest_first
    elsewhere = await http.get(f"{BASE}/requests.json", params={"jurisdiction_id": "16.02"})
    assert elsewhere.json() == []
    past = {"end_date": (datetime.now(UTC) - timedelta(days=1)).isoformat()}
    assert (await http.get(f"{BASE}/requests.json", params=past)).json() == []
