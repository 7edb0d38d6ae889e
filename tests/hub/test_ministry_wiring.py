"""The ministry view wired into the hub: GraphQL fields, report deadlines, exports, scope."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from starlette.applications import Starlette

from hub.ministry.settings import MinistrySettings
from hub.settings import Settings
from tests.fixtures.app import GraphQLClient, token_for
from tests.hub.operations import submit


def _this_year() -> tuple[str, str]:
    """A period holding today in WIB (the roll-ups' time zone)."""
    today = (datetime.now(UTC) + timedelta(hours=7)).date()
    return f"{today.year}-01-01", f"{today.year + 1}-01-01"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """No group suppressed, so that two reports show."""
    return dataclasses.replace(settings, ministry=MinistrySettings(suppress_below=1))


STATISTICS = """query($from: Date!, $to: Date!) {
  statistics(period: {from: $from, to: $to}, groupBy: REGION) {
    currentTo ruleVersions total { received confidential }
    groups { key figures { received } }
  }
}"""


async def test_the_ministry_reads_what_the_write_path_just_wrote(
    app: Starlette, http: httpx.AsyncClient
) -> None:
    start, end = _this_year()
    ministry = GraphQLClient(http, await token_for(app, "kemen", None, ["ministry:read"]))
    before = await ministry.data(STATISTICS, **{"from": start, "to": end})
    assert before["statistics"]["total"] is None

    writer = GraphQLClient(http, await token_for(app, "plg", "16.71", ["node:16.71:write"]))
    await submit(writer, regionCode="16.71")
    await submit(writer, regionCode="16.71", privacy={"confidential": True})
    written = datetime.now(UTC)  # both changes are committed by now

    # The figures are a projection of the changes: they follow within a moment, and
    # each answer says which changes it counts (every one committed before currentTo).
    deadline = written + timedelta(seconds=10)
    while True:
        after = (await ministry.data(STATISTICS, **{"from": start, "to": end}))["statistics"]
        if datetime.fromisoformat(after["currentTo"]) >= written:
            break
        assert datetime.now(UTC) < deadline, f"figures still current to {after['currentTo']}"
        await asyncio.sleep(0.05)
    assert after["total"] == {"received": 2, "confidential": 1}
    # /metrics says how far behind the figures are: the projection loop keeps them close.
    metrics = (await http.get("/metrics")).text
    lag = next(
        float(line.split()[1])
        for line in metrics.splitlines()
        if line.startswith("sp4n_ministry_projection_lag_seconds ")
    )
    assert 0 <= lag < 10
    assert "sp4n_ministry_projection_waiting " in metrics
    assert {g["key"]: g["figures"]["received"] for g in after["groups"]}["16.71"] == 2
    assert after["ruleVersions"]


async def test_figures_and_exports_need_the_ministry_scope(
    app: Starlette, http: httpx.AsyncClient
) -> None:
    start, end = _this_year()
    public = await GraphQLClient(http).execute(STATISTICS, **{"from": start, "to": end})
    assert public["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    regency = GraphQLClient(http, await token_for(app, "oku", "16.01", ["node:16.01:write"]))
    refused = await regency.execute(STATISTICS, **{"from": start, "to": end})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    url = f"/export/statistics.csv?from={start}&to={end}"
    assert (await http.get(url)).status_code == 403
    token = await token_for(app, "kemen2", None, ["ministry:read"])
    ok = await http.get(url, headers={"authorization": f"Bearer {token}"})
    assert ok.status_code == 200
    assert ok.text.startswith("period_from,period_to,time_zone,current_to,rule_versions")


async def test_a_report_shows_its_deadlines(app: Starlette, http: httpx.AsyncClient) -> None:
    writer = GraphQLClient(http, await token_for(app, "plg", "16.71", ["node:16.71:write"]))
    report_id = (await submit(writer))["id"]
    data = await writer.data(
        "query($id: ID!) { report(id: $id) {"
        " overdue deadlines { stage status workingDays dueAt } } }",
        id=report_id,
    )
    stages = {d["stage"]: d for d in data["report"]["deadlines"]}
    assert stages["VERIFY"]["status"] == "PENDING"
    assert stages["VERIFY"]["workingDays"] == 3
    assert stages["VERIFY"]["dueAt"] is not None
    assert data["report"]["overdue"] is False
