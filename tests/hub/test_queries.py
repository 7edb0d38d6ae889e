"""Reading the index: reference data, pages, filters, cursors and no N+1."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.applications import Starlette

from hub.domain.commands import Actor, Dispose, Submit, Verify
from hub.domain.service import ReportService
from hub.store.database import StatementCounter
from schema.report import ActorRole, Channel, ComplaintSubKind, ReportKind
from tests.fixtures.app import GraphQLClient
from tests.hub.operations import error_code

PAGE = """
query Page($first: Int!, $after: String, $filter: ReportFilter) {
  reports(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id title state kind regionCode submittedAt } }
  }
}
"""

ACTOR = Actor("16", ActorRole.INSTITUTION_ADMIN)


async def _seed(app: Starlette, count: int) -> list[str]:
    """``count`` reports over three regions, one second apart, every third verified."""
    start = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    tick = [start]
    timed = ReportService(app.state.database, clock=lambda: tick[0])
    ids = []
    regions = ["16.71", "16.04", "16.74"]
    for i in range(count):
        tick[0] = start + timedelta(seconds=i)
        row = await timed.execute(
            Submit(
                kind=ReportKind.COMPLAINT if i % 2 else ReportKind.ASPIRATION,
                complaint_sub_kind=ComplaintSubKind.SUPERVISORY if i % 2 else None,
                title=f"Laporan nomor {i:03d} tentang {'banjir' if i % 5 == 0 else 'jalan'}",
                content="Isi laporan.",
                region_code=regions[i % 3],
                topic_id=303 if i % 5 == 0 else 301,
                channel=Channel.WEB,
            ),
            ACTOR,
        )
        if i % 3 == 0:
            row = await timed.execute(Verify(row.id), ACTOR, expected_version=1)
        ids.append(str(row.id))
    return ids


async def test_reference_data(gql: GraphQLClient) -> None:
    data = await gql.data(
        """{ regions { code bpsCode type } nodes { code level region { name } }
             institutions(filter: {text: "dinkes"}, first: 100) {
               edges { node { code node { code } } } }
             topics { id name parent { name } } }"""
    )
    regions = {r["code"]: r for r in data["regions"]}
    assert regions["16.08"]["bpsCode"] == "1609"
    assert regions["16.74"]["bpsCode"] == "1672"
    assert regions["16"]["type"] == "PROVINCE"
    assert {n["level"] for n in data["nodes"]} == {"REGENCY", "PROVINCE", "NATIONAL"}
    assert next(n for n in data["nodes"] if n["code"] == "16.71")["region"]["name"] == "Palembang"
    institutions = {e["node"]["code"]: e["node"] for e in data["institutions"]["edges"]}
    assert institutions["opd-16-dinkes"]["node"]["code"] == "16"
    assert institutions["opd-16.71-dinkes"]["node"]["code"] == "16.71"
    topics = {t["id"]: t for t in data["topics"]}
    assert topics[301]["parent"]["name"] == "Infrastruktur"


async def test_pages_cover_every_report_once_newest_first(
    app: Starlette, gql: GraphQLClient
) -> None:
    ids = await _seed(app, 23)
    seen: list[str] = []
    after = None
    while True:
        page = (await gql.data(PAGE, first=10, after=after))["reports"]
        assert page["totalCount"] == 23
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == list(reversed(ids))


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        ({"regionCode": "16.04"}, 10),
        ({"state": "VERIFIED"}, 10),
        ({"kind": "ASPIRATION"}, 15),
        ({"titleContains": "BANJIR"}, 6),
        ({"titleContains": "%"}, 0),
        ({"institutionCode": "pemda-16.74"}, 10),
        ({"submittedFrom": "2026-03-02T15:00:10+07:00"}, 20),
        ({"submittedFrom": "2026-03-02T08:00:05Z", "submittedTo": "2026-03-02T08:00:07Z"}, 2),
        ({"regionCode": "16.71", "state": "VERIFIED"}, 10),
    ],
)
async def test_filters(
    app: Starlette, gql: GraphQLClient, filter: dict[str, Any], expected: int
) -> None:
    await _seed(app, 30)
    page = (await gql.data(PAGE, first=100, filter=filter))["reports"]
    assert page["totalCount"] == expected
    assert len(page["edges"]) == expected


async def test_page_size_and_cursor_are_validated(gql: GraphQLClient) -> None:
    assert error_code(await gql.execute(PAGE, first=101)) == "BAD_INPUT"
    assert error_code(await gql.execute(PAGE, first=0)) == "BAD_INPUT"
    assert error_code(await gql.execute(PAGE, first=5, after="not-a-cursor")) == "BAD_INPUT"
    body = await gql.execute(PAGE, first=5, filter={"submittedFrom": "2026-03-02T08:00:00"})
    assert error_code(body) == "BAD_INPUT"


NESTED = """
query($first: Int!) {
  reports(first: $first) {
    edges { node {
      id title state
      region { code name }
      institution { code name node { code } }
      originNode { name }
      topic { name parent { name } }
      history { version toState }
      dispositions { seq toInstitution { name } }
      followUps { content }
      externalRefs { externalId }
    } }
  }
}
"""


async def test_nested_fields_cost_a_fixed_number_of_statements(
    app: Starlette, gql: GraphQLClient
) -> None:
    await _seed(app, 60)
    counter: StatementCounter = app.state.database.statements

    async def statements_for(first: int) -> int:
        before: int = counter.count
        data = await gql.data(NESTED, first=first)
        assert len(data["reports"]["edges"]) == first
        assert all(e["node"]["history"] for e in data["reports"]["edges"])
        return counter.count - before

    small, large = await statements_for(5), await statements_for(50)
    assert large == small, f"5 reports took {small} statements, 50 took {large}: N+1"
    # page + region, institution, node, topic (and its parents), history,
    # dispositions (+ their institutions), follow-ups, external refs.
    assert large <= 12


async def test_a_disposed_report_shows_its_chain_in_a_page(
    app: Starlette, gql: GraphQLClient
) -> None:
    ids = await _seed(app, 3)
    service: ReportService = app.state.service
    import uuid

    rid = uuid.UUID(ids[0])  # verified by _seed
    await service.execute(Dispose(rid, "opd-16-dinkes"), ACTOR, expected_version=2)
    data = await gql.data(NESTED, first=3)
    node = next(e["node"] for e in data["reports"]["edges"] if e["node"]["id"] == ids[0])
    assert node["institution"]["code"] == "opd-16-dinkes"
    assert node["dispositions"] == [{"seq": 1, "toInstitution": {"name": "Dinas Kesehatan"}}]


async def test_queries_work_over_get(http: Any) -> None:
    response = await http.get("/graphql", params={"query": "{ regions { code } }"})
    assert response.status_code == 200
    assert len(response.json()["data"]["regions"]) == 18
