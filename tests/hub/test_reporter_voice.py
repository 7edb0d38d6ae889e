"""The reporter's voice: answers to follow-ups, and a rating once the report is completed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.applications import Starlette

from hub.ministry.settings import MinistrySettings
from hub.settings import Settings
from schema.calendar import wib_date
from tests.fixtures.app import GraphQLClient, token_for
from tests.hub.operations import COMPLETE, DISPOSE, FOLLOW_UP, VERIFY, error_code, key, submit

REPLY = """
mutation Reply($id: ID!, $v: Int!, $key: String!, $content: String!) {
  replyToFollowUp(id: $id, expectedVersion: $v, idempotencyKey: $key, content: $content) {
    id state version replies { content actorNode }
  }
}
"""
RATE = """
mutation Rate($id: ID!, $score: Int!, $comment: String) {
  rateReport(id: $id, score: $score, comment: $comment) { score comment institutionCode }
}
"""
RATING = "query R($id: ID!) { report(id: $id) { rating { score comment } } }"
SATISFACTION = """
query S($from: Date!, $to: Date!) {
  satisfaction(period: {from: $from, to: $to}) {
    entries { institutionCode suppressed completed rated ratedShare averageScore }
  }
}
"""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, ministry=MinistrySettings(suppress_below=2))


async def _followed_up(gql: GraphQLClient) -> dict[str, Any]:
    r = await submit(gql)
    await gql.data(VERIFY, id=r["id"], v=1, key=key())
    await gql.data(DISPOSE, id=r["id"], v=2, key=key(), to="opd-16-pubmtr")
    followed: dict[str, Any] = (
        await gql.data(FOLLOW_UP, id=r["id"], v=3, key=key(), content="Sudah ditambal.")
    )["addFollowUp"]
    return followed


async def _completed(gql: GraphQLClient) -> dict[str, Any]:
    r = await _followed_up(gql)
    done: dict[str, Any] = (await gql.data(COMPLETE, id=r["id"], v=4, key=key()))["completeReport"]
    return done


async def test_a_reply_keeps_or_reopens_the_follow_up_and_a_rating_comes_once(
    app: Starlette, gql: GraphQLClient, public_gql: GraphQLClient
) -> None:
    r = await _followed_up(gql)
    answered = (await gql.data(REPLY, id=r["id"], v=4, key=key(), content="Masih bocor."))[
        "replyToFollowUp"
    ]
    assert (answered["state"], answered["version"]) == ("IN_FOLLOW_UP", 5)
    assert answered["replies"] == [{"content": "Masih bocor.", "actorNode": "16"}]
    assert error_code(await gql.execute(RATE, id=r["id"], score=4)) == "BAD_INPUT"

    await gql.data(COMPLETE, id=r["id"], v=5, key=key())
    reopened = (await gql.data(REPLY, id=r["id"], v=6, key=key(), content="Belum beres."))[
        "replyToFollowUp"
    ]
    assert (reopened["state"], reopened["version"]) == ("IN_FOLLOW_UP", 7)
    assert [x["content"] for x in reopened["replies"]] == ["Masih bocor.", "Belum beres."]
    blank = await gql.execute(REPLY, id=r["id"], v=7, key=key(), content="  ")
    assert error_code(blank) == "BAD_INPUT"

    await gql.data(COMPLETE, id=r["id"], v=7, key=key())
    for score in (0, 6):
        assert error_code(await gql.execute(RATE, id=r["id"], score=score)) == "BAD_INPUT"
    lahat = GraphQLClient(gql.http, await token_for(app, "lht", "16.04", ["node:16.04:write"]))
    assert error_code(await lahat.execute(RATE, id=r["id"], score=5)) == "NOT_FOUND"
    assert error_code(await public_gql.execute(RATE, id=r["id"], score=5)) == "FORBIDDEN"
    rated = (await gql.data(RATE, id=r["id"], score=4, comment="Cepat ditangani."))["rateReport"]
    assert rated == {"score": 4, "comment": "Cepat ditangani.", "institutionCode": "opd-16-pubmtr"}
    assert error_code(await gql.execute(RATE, id=r["id"], score=5)) == "BAD_INPUT"
    shown = (await gql.data(RATING, id=r["id"]))["report"]["rating"]
    assert shown == {"score": 4, "comment": "Cepat ditangani."}


async def test_the_ministry_sees_each_institutions_rated_share_and_mean(gql: GraphQLClient) -> None:
    roads = [await _completed(gql) for _ in range(3)]
    for report, score in zip(roads[:2], (4, 5), strict=True):
        await gql.data(RATE, id=report["id"], score=score)
    r = await submit(gql, regionCode="16.04")  # completed by Lahat's government, once
    await gql.data(VERIFY, id=r["id"], v=1, key=key())
    await gql.data(DISPOSE, id=r["id"], v=2, key=key(), to="opd-16-dinkes")
    await gql.data(FOLLOW_UP, id=r["id"], v=3, key=key(), content="Ditangani.")
    await gql.data(COMPLETE, id=r["id"], v=4, key=key())
    today = wib_date(datetime.now(UTC))
    period = {"from": str(today), "to": str(today + timedelta(days=1))}
    entries = (await gql.data(SATISFACTION, **period))["satisfaction"]["entries"]
    assert entries == [
        {"institutionCode": "opd-16-pubmtr", "suppressed": False, "completed": 3, "rated": 2,
         "ratedShare": pytest.approx(2 / 3), "averageScore": 4.5},
        {"institutionCode": "opd-16-dinkes", "suppressed": True, "completed": None,
         "rated": None, "ratedShare": None, "averageScore": None},
    ]  # fmt: skip
