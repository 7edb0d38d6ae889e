"""``/export/``: CSV and JSON, streamed, with the period and the rule version."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from hub.ministry.export import ministry_routes
from hub.ministry.settings import MinistrySettings
from hub.store.database import Database
from tests.hub.ministry import dataset

YEAR = "from=2026-01-01&to=2027-01-01"


@pytest.fixture
async def reports(db: Database) -> dict[str, uuid.UUID]:
    return await dataset.build(db)


@pytest.fixture
async def http(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    routes = ministry_routes(db, MinistrySettings(suppress_below=3), clock=dataset.Clock())
    transport = httpx.ASGITransport(app=Starlette(routes=routes))
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        yield client


def _rows(response: httpx.Response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.text)))


@pytest.mark.usefixtures("reports")
async def test_statistics_as_csv(http: httpx.AsyncClient) -> None:
    response = await http.get(f"/export/statistics.csv?{YEAR}&groupBy=institution")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "content-length" not in response.headers  # streamed
    assert (
        'filename="statistics-2026-01-01-2027-01-01.csv"'
        in (response.headers["content-disposition"])
    )
    rows = _rows(response)
    for row in rows:
        assert (row["period_from"], row["period_to"], row["time_zone"]) == (
            "2026-01-01",
            "2027-01-01",
            "Asia/Jakarta",
        )
        assert (row["rule_versions"], row["suppress_below"]) == ("2018-62", "3")
    by_key = {r["key"]: r for r in rows}
    assert by_key[""]["group_by"] == "TOTAL"
    assert (by_key[""]["received"], by_key[""]["redispositions"]) == ("6", "1")
    lahat = by_key["pemda-16.04"]
    assert (lahat["suppressed"], lahat["received"], lahat["archived"]) == ("False", "3", "1")
    # Two reports (Palembang's government) and one (Bina Marga) are too few to show.
    assert by_key["pemda-16.71"]["suppressed"] == "True"
    assert by_key["pemda-16.71"]["received"] == ""
    assert by_key["opd-16-pubmtr"]["received"] == ""


@pytest.mark.usefixtures("reports")
async def test_sla_compliance_as_json(http: httpx.AsyncClient) -> None:
    response = await http.get(f"/export/sla-compliance.json?{YEAR}&groupBy=REGION")
    assert response.status_code == 200
    body = response.json()
    assert body["period"] == {"from": "2026-01-01", "to": "2027-01-01", "timeZone": "Asia/Jakarta"}
    assert body["ruleVersions"] == ["2018-62"]
    assert body["asOf"] == "2026-04-30"
    assert body["total"][0] == {
        "stage": "VERIFY",
        "met": 2,
        "late": 2,
        "overdue": 0,
        "pending": 1,
        "within_limit_share": 0.5,
        "median_working_days": 1,
        "p90_working_days": 5,
    }
    palembang = next(g for g in body["groups"] if g["key"] == "16.71")
    assert palembang["stages"][2]["overdue"] == 1  # R2's completion


@pytest.mark.usefixtures("reports")
async def test_ranking_as_csv_and_json(http: httpx.AsyncClient) -> None:
    rows = _rows(await http.get(f"/export/ranking.csv?{YEAR}"))
    assert [(r["rank"], r["institution_code"], r["received"], r["score"]) for r in rows] == [
        ("1", "pemda-16.04", "3", "0.5"),
        ("", "opd-16-pubmtr", "", ""),
        ("", "pemda-16.71", "", ""),
    ]
    assert {r["rule_versions"] for r in rows} == {"2018-62"}
    body = (await http.get(f"/export/ranking.json?{YEAR}&level=regency_government")).json()
    assert body["level"] == "REGENCY_GOVERNMENT"
    assert [e["institution_code"] for e in body["entries"]] == ["pemda-16.04", "pemda-16.71"]


async def test_exports_hold_no_report_text_or_id(
    http: httpx.AsyncClient, reports: dict[str, uuid.UUID]
) -> None:
    for figure in ("statistics", "sla-compliance", "ranking"):
        for fmt in ("csv", "json"):
            for group_by in ("REGION", "STATE", "MONTH"):
                response = await http.get(f"/export/{figure}.{fmt}?{YEAR}&groupBy={group_by}")
                assert response.status_code == 200
                assert dataset.SECRET not in response.text
                assert not any(str(r) in response.text for r in reports.values())


async def test_bad_requests_say_what_is_wrong(http: httpx.AsyncClient) -> None:
    missing = await http.get("/export/statistics.csv?from=2026-01-01")
    assert missing.status_code == 400
    assert missing.json() == {
        "error": "the query parameter 'to' is required (YYYY-MM-DD, WIB)",
        "code": "BAD_INPUT",
    }
    colour = await http.get(f"/export/statistics.json?{YEAR}&groupBy=colour")
    assert colour.status_code == 400
    assert "REGION" in colour.json()["error"]
    backwards = await http.get("/export/ranking.csv?from=2026-02-01&to=2026-01-01")
    assert backwards.status_code == 400
    assert (await http.get(f"/export/ranking.xml?{YEAR}")).status_code == 404


async def test_exports_can_be_refused(db: Database) -> None:
    routes = ministry_routes(db, MinistrySettings(), authorize=lambda request: False)
    transport = httpx.ASGITransport(app=Starlette(routes=routes))
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        refused = await client.get(f"/export/statistics.csv?{YEAR}")
    assert refused.status_code == 403
    assert refused.json()["code"] == "FORBIDDEN"
