"""The dashboard as its readers use it: in Chromium, as the ministry, the province and
a regency's coordinator, with nothing reachable but the hub."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import httpx
from openpyxl import load_workbook

from tests.fixtures.app import token_for
from tests.hub.dashboard.conftest import CANARY, SEEDED, DashboardAs, Hub, Tab, graphql

STATISTICS = """
query ($from: Date!, $to: Date!, $groupBy: GroupBy!) {
  statistics(period: {from: $from, to: $to}, groupBy: $groupBy) {
    currentTo ruleVersions suppressBelow
    total { received verified disposed followedUp completed archived autoClosed }
    groups { key suppressed figures { received verified completed archived autoClosed } }
  }
}
"""
SLA = """
query ($from: Date!, $to: Date!, $groupBy: GroupBy!) {
  slaCompliance(period: {from: $from, to: $to}, groupBy: $groupBy) {
    ruleVersions
    groups {
      key suppressed
      stages { stage met late overdue pending medianWorkingDays p90WorkingDays }
    }
  }
}
"""


async def _period(tab: Tab) -> tuple[str, str]:
    [start] = await tab.attribute("input[name=from]", "value")
    [end] = await tab.attribute("input[name=to]", "value")
    return start, end


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _int(value: str) -> int | None:
    return int(value) if value else None


async def test_the_ministry_reads_every_view_and_its_exports_match_graphql(
    hub: Hub, tab: Tab, dashboard_as: DashboardAs
) -> None:
    token = await dashboard_as("ministry")
    page = await tab.open(f"{hub.url}/dashboard")
    assert "Ringkasan" in page
    assert "Peta petak kabupaten/kota" in page
    start, end = await _period(tab)
    tiles = await tab.attribute("svg.tiles .tile", "data-region")
    assert len(tiles) == 18
    assert "16.71" in tiles
    assert len(await tab.attribute("svg.tiles a.tile", "href")) == 18  # every tile opens
    [versions] = await tab.texts("#rule-versions")
    stats = (
        await graphql(hub, token, STATISTICS, **{"from": start, "to": end, "groupBy": "REGION"})
    )["statistics"]
    assert versions == ", ".join(stats["ruleVersions"])
    assert versions
    assert (await tab.texts("#current-to"))[0]
    [received] = await tab.texts("#table-total td[data-column=received]")
    assert received == f"{stats['total']['received']:,}".replace(",", ".")
    assert stats["total"]["received"] >= SEEDED // 3  # the seed spreads two years
    # A region GraphQL suppresses shows no figure on its tile either.
    shown = dict(zip(tiles, await tab.texts("svg.tiles .tile .tile-value"), strict=True))
    hidden = {g["key"] for g in stats["groups"] if g["suppressed"]}
    assert hidden  # the seed leaves some regions small
    assert {code for code, text in shown.items() if text == "disembunyikan"} == hidden
    await tab.screenshot("overview")

    # The CSV of the overview: each region's figures are GraphQL's, suppressed alike.
    export = await tab.download("#export-csv", ".csv")
    assert export.name == f"overview-{start}-{end}.csv"
    rows = _rows(export.read_text("utf-8"))
    assert {r["rule_versions"] for r in rows} == {";".join(stats["ruleVersions"])}
    by_region = {r["key"]: r for r in rows if r["table"] == "by_region"}
    groups = {g["key"]: g for g in stats["groups"]}
    assert set(by_region) == {t for t in tiles if t in groups} | (set(by_region) - set(groups))
    for key, group in groups.items():
        row = by_region[key]
        assert row["suppressed"] == str(group["suppressed"])
        figures: dict[str, Any] = group["figures"] or {}
        assert _int(row["received"]) == figures.get("received")
        assert _int(row["completed"]) == figures.get("completed")
        assert _int(row["auto_closed"]) == figures.get("autoClosed")
    [total] = [r for r in rows if r["table"] == "total"]
    assert int(total["verified"]) == stats["total"]["verified"]

    # The XLSX of the same view: the rule versions inside, the same totals.
    book = load_workbook(await tab.download("#export-xlsx", ".xlsx"), read_only=True)
    info = {r[0]: r[1] for r in book["info"].iter_rows(values_only=True)}
    assert info["rule_versions"] == ";".join(stats["ruleVersions"])
    assert (info["period_from"], info["period_to"]) == (start, end)
    sheet = list(book["total"].iter_rows(values_only=True))
    header, values = sheet[0], sheet[1]
    assert values[header.index("received")] == stats["total"]["received"]
    assert values[header.index("archived")] == stats["total"]["archived"]

    # A tile opens its region.
    region = await tab.click("svg.tiles a.tile[data-region='16.71']")
    assert "Palembang" in (await tab.texts("#region-name"))[0]
    assert "Menurut instansi" in region
    await tab.screenshot("region")

    # SLA compliance by region: GraphQL's medians and p90s.
    await tab.click("#nav-sla")
    sla = await graphql(hub, token, SLA, **{"from": start, "to": end, "groupBy": "REGION"})
    rows = _rows((await tab.download("#export-csv", ".csv")).read_text("utf-8"))
    for group in sla["slaCompliance"]["groups"]:
        for stage in group["stages"] or []:
            [row] = [
                r
                for r in rows
                if r["table"] == "by_region"
                and r["key"] == group["key"]
                and r["stage"] == stage["stage"]
            ]
            assert _int(row["median_days"]) == stage["medianWorkingDays"]
            assert _int(row["p90_days"]) == stage["p90WorkingDays"]
            assert _int(row["overdue_count"]) == stage["overdue"]
    await tab.screenshot("sla")

    await tab.click("#nav-ranking")
    assert await tab.texts("#table-ranking tbody tr")
    await tab.screenshot("ranking")
    await tab.click("#nav-trend")
    assert await tab.texts("figure.chart svg rect")
    await tab.screenshot("trend")

    # The overdue list, oldest first, each row opening its report.
    await tab.click("#nav-overdue")
    due = await tab.texts("#table-overdue td[data-column=due_day]")
    assert due
    assert due == sorted(due)
    late = await tab.texts("#table-overdue td[data-column=working_days_late]")
    assert all(int(n) >= 1 for n in late)
    await tab.screenshot("overdue")
    report = await tab.click("#table-overdue tbody tr:first-child td[data-column=title] a")
    assert "Riwayat" in report
    assert "Rantai disposisi" in report
    assert "Tenggat" in report
    assert await tab.texts("#table-history tbody tr")
    await tab.screenshot("report")

    english = await tab.open(f"{hub.url}/dashboard?lang=en")
    assert "Overview" in english
    assert "Figures current to" in english
    assert CANARY not in await tab.source()
    assert tab.outside(hub.url) == []
    assert tab.console == []


async def test_a_regency_sees_its_own_region_only(
    hub: Hub, tab: Tab, dashboard_as: DashboardAs
) -> None:
    await dashboard_as("palembang")
    await tab.open(f"{hub.url}/dashboard")
    assert await tab.attribute("svg.tiles a.tile", "data-region") == ["16.71"]
    values = await tab.texts("svg.tiles .tile .tile-value")
    assert values.count("—") == 17  # the other regions' tiles carry no figure
    regions = await tab.texts("#table-by_region td[data-column=key]")
    assert regions == ["16.71"]
    assert await tab.texts("#table-by_kind") == []
    await tab.screenshot("overview")

    await tab.click("svg.tiles a.tile[data-region='16.71']")
    assert "Palembang" in (await tab.texts("#region-name"))[0]
    refused = await tab.open(f"{hub.url}/dashboard/regions/16.04")
    assert "16.04" in refused
    assert "Palembang" not in refused

    await tab.open(f"{hub.url}/dashboard/overdue")
    held = await tab.texts("#table-overdue td[data-column=key]")
    assert held
    assert set(held) == {"16.71"}
    await tab.screenshot("overdue")
    report = await tab.click("#table-overdue tbody tr:first-child td[data-column=title] a")
    assert "Palembang (16.71)" in report
    assert await tab.texts("#table-history tbody tr")
    # Another region's report, though public, is not on a regency's dashboard.
    ministry = await token_for(hub.app, "dashboard-lookup", None, ["ministry:read"])
    found = await graphql(
        hub,
        ministry,
        '{ reports(first: 1, filter: {regionCode: "16.04"}) { edges { node { id '
        "confidential } } } }",
    )
    [edge] = found["reports"]["edges"]
    assert not edge["node"]["confidential"]
    elsewhere = await tab.open(f"{hub.url}/dashboard/reports/{edge['node']['id']}")
    assert "Tidak ditemukan" in elsewhere
    await tab.open(f"{hub.url}/dashboard/sla")
    assert set(await tab.texts("#table-by_region td[data-column=key]")) == {"16.71"}
    assert tab.outside(hub.url) == []


async def test_a_confidential_reports_canary_shows_only_to_whom_may_see_it(
    hub: Hub, tab: Tab, dashboard_as: DashboardAs
) -> None:
    report = f"{hub.url}/dashboard/reports/{hub.canary_id}"
    for role in ("ministry", "palembang"):
        await dashboard_as(role)
        page = await tab.open(report)
        assert "Tidak ditemukan" in page
        assert CANARY not in await tab.source()
        for view in ("", "/overdue", "/sla", "/ranking", "/trend"):
            await tab.open(f"{hub.url}/dashboard{view}")
            assert CANARY not in await tab.source()
    await dashboard_as("province")
    page = await tab.open(report)
    assert CANARY in page
    await tab.screenshot("confidential-for-the-province")
    assert tab.outside(hub.url) == []


async def test_the_public_is_asked_to_sign_in_and_bad_input_is_named(hub: Hub) -> None:
    async with httpx.AsyncClient(base_url=hub.url) as http:
        public = await http.get("/dashboard")
        assert public.status_code == 303
        assert public.headers["location"] == "/login?next=%2Fdashboard"
        assert "16.71" not in public.text
        export = await http.get("/dashboard/export/overview.csv?from=2026-01-01&to=2026-02-01")
        assert export.status_code == 303
        assert export.headers["location"] == (
            "/login?next=%2Fdashboard%2Fexport%2Foverview.csv%3Ffrom%3D2026-01-01%26to%3D2026-02-01"
        )
    token = await _token(hub)
    headers = {"authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=hub.url, headers=headers) as http:
        bad = await http.get("/dashboard?from=2026-13-01&to=2026-02-01")
        assert bad.status_code == 400
        assert "BAD_INPUT" in bad.text
        half = await http.get("/dashboard?from=2026-01-01")
        assert half.status_code == 400
        unknown = await http.get("/dashboard/export/nothing.csv")
        assert unknown.status_code == 400
        page = await http.get("/dashboard")
    assert page.status_code == 200
    assert "default-src 'none'" in page.headers["content-security-policy"]
    # Only the hub's own stylesheet; no script at all.
    assert re.findall(r'(?:src|href)="(/[^"]*\.(?:css|js))"', page.text) == [
        "/dashboard/assets/dashboard.css"
    ]
    assert "<script" not in page.text


async def _token(hub: Hub) -> str:
    return await token_for(hub.app, "dashboard-http", None, ["ministry:read"])
