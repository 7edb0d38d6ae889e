"""One complaint filed at two nodes: found as a candidate pair, merged through the write path."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette

from tests.fixtures.app import GraphQLClient, token_for
from tests.hub.operations import error_code, key, submit

CANDIDATES = """
query Candidates($min: Float!) {
  duplicateCandidates(first: 20, minScore: $min) {
    original { id } duplicate { id } score titleScore contentScore distanceKm
  }
}
"""
MARK = """
mutation Mark($id: ID!, $of: ID!, $v: Int!, $key: String!) {
  markDuplicate(id: $id, of: $of, expectedVersion: $v, idempotencyKey: $key) {
    id state archiveReason version duplicateOf externalRefs { node externalId }
  }
}
"""
REFS = "query R($id: ID!) { report(id: $id) { duplicateOf externalRefs { node externalId } } }"


async def _writer(app: Starlette, gql: GraphQLClient, node: str) -> GraphQLClient:
    """The node's system, writing through the hub (its client registered on first use)."""
    tokens, client = app.state.tokens, f"system-{node}"
    scopes = [f"node:{node}:write"]
    if not await app.state.clients.active(client):
        return GraphQLClient(gql.http, await token_for(app, client, node, scopes))
    return GraphQLClient(gql.http, tokens.issue(client, node, frozenset(scopes)))


async def _filed_twice(app: Starlette, gql: GraphQLClient) -> dict[str, dict[str, Any]]:
    """Palembang's app and LAPOR! each file the same pothole; two unrelated reports beside."""
    palembang, lapor = await _writer(app, gql, "16.71"), await _writer(app, gql, "lapor")
    where = {"latitude": -2.9909, "longitude": 104.7566}
    first = await submit(
        palembang, title="Jalan berlubang besar di Jalan Sudirman depan Pasar 16",
        content="Lubang besar di Jalan Sudirman depan Pasar 16 Ilir membahayakan pengendara.",
        externalRef={"node": "16.71", "externalId": "PLG-0001"}, **where,
    )  # fmt: skip
    again = await submit(
        lapor, title="Jalan Sudirman depan Pasar 16 berlubang besar",
        content="Ada lubang besar di Jalan Sudirman depan Pasar 16 Ilir, bahaya bagi pengendara.",
        externalRef={"node": "lapor", "externalId": "LPR-2026-77"},
        latitude=-2.9912, longitude=104.7570,
    )  # fmt: skip
    other = await submit(palembang, title="Lampu penerangan jalan padam di Jalan Angkatan 45")
    elsewhere = await submit(
        gql, title="Jalan berlubang besar di Jalan Sudirman depan Pasar", regionCode="16.04"
    )
    return {"first": first, "again": again, "other": other, "elsewhere": elsewhere}


async def test_a_complaint_filed_at_two_nodes_is_found_and_merged(
    app: Starlette, gql: GraphQLClient, public_gql: GraphQLClient
) -> None:
    r = await _filed_twice(app, gql)
    pairs = (await gql.data(CANDIDATES, min=0.3))["duplicateCandidates"]
    found = {(p["original"]["id"], p["duplicate"]["id"]): p for p in pairs}
    # The same pothole, filed twice, pairs up; nothing else does (another region's
    # look-alike title included).
    assert list(found) == [(r["first"]["id"], r["again"]["id"])]
    pair = found[(r["first"]["id"], r["again"]["id"])]
    assert pair["score"] >= 0.5
    assert 0 < pair["distanceKm"] < 0.1
    assert pair["titleScore"] > 0.5

    assert error_code(await public_gql.execute(CANDIDATES, min=0.3)) == "FORBIDDEN"
    node = await _writer(app, gql, "16.71")
    marked_by_node = await node.execute(
        MARK, id=r["again"]["id"], of=r["first"]["id"], v=1, key=key()
    )
    assert error_code(marked_by_node) == "FORBIDDEN"

    retry = key()
    merged = (await gql.data(MARK, id=r["again"]["id"], of=r["first"]["id"], v=1, key=retry))[
        "markDuplicate"
    ]
    assert (merged["state"], merged["archiveReason"], merged["version"]) == (
        "ARCHIVED", "DUPLICATE", 2,
    )  # fmt: skip
    assert merged["duplicateOf"] == r["first"]["id"]
    assert merged["externalRefs"] == []  # handed to the original
    original = (await gql.data(REFS, id=r["first"]["id"]))["report"]
    assert original["duplicateOf"] is None
    assert sorted((x["node"], x["externalId"]) for x in original["externalRefs"]) == [
        ("16.71", "PLG-0001"), ("lapor", "LPR-2026-77"),
    ]  # fmt: skip
    # A retry of the same request gets the same answer and changes nothing more.
    again = await gql.data(MARK, id=r["again"]["id"], of=r["first"]["id"], v=1, key=retry)
    assert again["markDuplicate"]["version"] == 2
    assert (await gql.data(CANDIDATES, min=0.3))["duplicateCandidates"] == []


async def test_what_cannot_be_a_duplicate_is_refused_and_changes_nothing(
    app: Starlette, gql: GraphQLClient
) -> None:
    r = await _filed_twice(app, gql)
    first, again, other = r["first"]["id"], r["again"]["id"], r["other"]["id"]
    itself = await gql.execute(MARK, id=first, of=first, v=1, key=key())
    assert error_code(itself) == "BAD_INPUT"
    await gql.data(MARK, id=again, of=first, v=1, key=key())
    # A report already archived as a duplicate is no original, and is not open to mark.
    of_a_duplicate = await gql.execute(MARK, id=other, of=again, v=1, key=key())
    assert error_code(of_a_duplicate) == "BAD_INPUT"
    stale = await gql.execute(MARK, id=other, of=first, v=5, key=key())
    assert error_code(stale) == "VERSION_CONFLICT"
    refs = (await gql.data(REFS, id=other))["report"]
    assert refs["duplicateOf"] is None
