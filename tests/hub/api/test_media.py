"""The media type and status of GraphQL's answers follow the caller's ``Accept``."""

from __future__ import annotations

import httpx
import pytest

from hub.api.media import (
    GRAPHQL_RESPONSE,
    JSON_ASKED,
    JSON_UNSTATED,
    ResponseMedia,
    response_media,
)

GRAPHQL_JSON = "application/graphql-response+json"


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        (None, JSON_UNSTATED),
        ("", JSON_UNSTATED),
        ("*/*", JSON_UNSTATED),
        ("application/*", JSON_UNSTATED),
        ("text/html", JSON_UNSTATED),
        ("application/json", JSON_ASKED),
        ("application/json, multipart/mixed", JSON_ASKED),  # GraphiQL's fetcher
        ("application/json, */*", JSON_ASKED),
        (GRAPHQL_JSON, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_JSON}, application/json;q=0.9", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_JSON}", GRAPHQL_RESPONSE),
        ("Application/GraphQL-Response+JSON; charset=utf-8", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_JSON};q=0.5, application/json", JSON_ASKED),
        (f"{GRAPHQL_JSON};q=0, */*", JSON_UNSTATED),
        ("*/*, application/json;q=0", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_JSON};q=oops, application/json;q=0.1", JSON_ASKED),
    ],
)
def test_the_media_type_follows_accept(accept: str | None, media: ResponseMedia) -> None:
    assert response_media(accept) is media


UNKNOWN_FIELD = {"query": "{ noSuchField }"}


async def test_a_refused_operation_in_each_media_type(http: httpx.AsyncClient) -> None:
    newer = await http.post("/graphql", json=UNKNOWN_FIELD, headers={"accept": GRAPHQL_JSON})
    assert newer.status_code == 400
    assert newer.headers["content-type"].startswith(GRAPHQL_JSON)
    assert "data" not in newer.json()
    assert newer.json()["errors"]

    # The spec's rule for application/json: 200, or the client cannot trust the body.
    legacy = await http.post("/graphql", json=UNKNOWN_FIELD, headers={"accept": "application/json"})
    assert legacy.status_code == 200
    assert legacy.headers["content-type"] == "application/json"
    assert legacy.json()["data"] is None
    assert legacy.json()["errors"]

    unstated = await http.post("/graphql", json=UNKNOWN_FIELD, headers={"accept": "*/*"})
    assert unstated.status_code == 400
    assert unstated.headers["content-type"] == "application/json"
    assert unstated.json()["data"] is None


async def test_answers_and_refusals_come_in_the_type_asked_for(http: httpx.AsyncClient) -> None:
    asked = {"accept": f"{GRAPHQL_JSON}, application/json;q=0.9"}
    ok = await http.post("/graphql", json={"query": "{ regions { code } }"}, headers=asked)
    assert ok.status_code == 200
    assert ok.headers["content-type"].startswith(GRAPHQL_JSON)
    assert len(ok.json()["data"]["regions"]) == 18
    plain = await http.get("/graphql", params={"query": "{ __typename }"})
    assert plain.headers["content-type"] == "application/json"

    bad_token = await http.post(
        "/graphql", json={"query": "{ __typename }"}, headers={**asked, "authorization": "Bearer x"}
    )
    assert bad_token.status_code == 401
    assert bad_token.headers["content-type"].startswith(GRAPHQL_JSON)
    assert bad_token.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
