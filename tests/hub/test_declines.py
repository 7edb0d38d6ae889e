"""The ministry's wrong-disposition rate: how often forwarded reports come back declined."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hub.ministry.settings import MinistrySettings
from hub.settings import Settings
from schema.calendar import wib_date
from tests.fixtures.app import GraphQLClient
from tests.hub.operations import DECLINE, DISPOSE, VERIFY, key, submit

DECLINES = """
query Declines($from: Date!, $to: Date!) {
  dispositionDeclines(period: {from: $from, to: $to}) {
    suppressBelow
    entries { institutionCode suppressed forwarded declined rate }
  }
}
"""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, ministry=MinistrySettings(suppress_below=2))


async def _forwarded(gql: GraphQLClient, to: str) -> dict[str, Any]:
    r = await submit(gql)
    await gql.data(VERIFY, id=r["id"], v=1, key=key())
    forwarded: dict[str, Any] = (await gql.data(DISPOSE, id=r["id"], v=2, key=key(), to=to))[
        "disposeReport"
    ]
    return forwarded


async def test_declines_per_institution_with_small_groups_suppressed(gql: GraphQLClient) -> None:
    roads = [await _forwarded(gql, "opd-16-pubmtr") for _ in range(3)]
    await _forwarded(gql, "opd-16-dinkes")
    for r in roads[:2]:
        await gql.data(DECLINE, id=r["id"], v=3, key=key(), reason="Jalan kota, bukan provinsi.")
        await gql.data(DISPOSE, id=r["id"], v=4, key=key(), to="opd-16-perkim")
    today = wib_date(datetime.now(UTC))
    data = await gql.data(DECLINES, **{"from": str(today), "to": str(today + timedelta(days=1))})
    figures = data["dispositionDeclines"]
    assert figures["suppressBelow"] == 2
    assert figures["entries"] == [
        {"institutionCode": "opd-16-pubmtr", "suppressed": False, "forwarded": 3,
         "declined": 2, "rate": pytest.approx(2 / 3)},
        {"institutionCode": "opd-16-perkim", "suppressed": False, "forwarded": 2,
         "declined": 0, "rate": 0.0},
        # Forwarded once: fewer than the threshold, so withheld.
        {"institutionCode": "opd-16-dinkes", "suppressed": True, "forwarded": None,
         "declined": None, "rate": None},
    ]  # fmt: skip

    # The same figures as a file people open, named with the period.
    period = {"from": str(today), "to": str(today + timedelta(days=1))}
    sheet = await gql.http.get("/export/declines.csv", params=period, headers=gql.headers)
    assert sheet.status_code == 200
    assert (
        f'filename="declines-{today}-{today + timedelta(days=1)}.csv"'
        in (sheet.headers["content-disposition"])
    )
    rows = list(csv.DictReader(io.StringIO(sheet.text)))
    fields = ("institution_code", "forwarded", "declined", "suppressed")
    assert [tuple(r[f] for f in fields) for r in rows] == [
        ("opd-16-pubmtr", "3", "2", "False"), ("opd-16-perkim", "2", "0", "False"),
        ("opd-16-dinkes", "", "", "True"),
    ]  # fmt: skip
    body = (await gql.http.get("/export/declines.json", params=period, headers=gql.headers)).json()
    assert (body["figure"], body["suppressBelow"]) == ("declines", 2)
    assert [e["institution_code"] for e in body["entries"]] == [
        "opd-16-pubmtr", "opd-16-perkim", "opd-16-dinkes",
    ]  # fmt: skip
    refused = await gql.http.get("/export/declines.csv", params=period)
    assert refused.status_code == 403
