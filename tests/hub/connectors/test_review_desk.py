"""Admins work the review queue: held changes applied or dismissed, labels learned."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import replace

import pytest
from starlette.applications import Starlette

from connectors.sandbox.sandbox import Sandbox
from hub.domain.review import Resolution, ReviewAction
from hub.errors import BadInput, NotFound
from hub.store.rows import ReviewRow
from schema.lifecycle import ReportState, Verb
from tests.fixtures.app import GraphQLClient, token_for
from tests.hub.connectors.conftest import Hub

NODE = "16.04"
"""A REST node speaking the CRM vocabulary: Menunggu, Koordinasi, ... (free text)."""
ODD = "Menunggu Konfirmasi"
UNCLEAR = "Perlu Klarifikasi"
ADMIN = "test-admin"


async def _submitted(hub: Hub, sandbox: Sandbox, count: int = 1) -> list[str]:
    """External ids of reports the hub indexed from NODE that are still SUBMITTED."""
    sandbox.introduce_status(NODE, ODD, UNCLEAR)  # no mapping knows them
    await hub.ingest.pull_once(hub.federation[NODE])
    found = []
    for external_id in await sandbox.inventory(NODE):
        if await sandbox.status_of(NODE, external_id) == "Menunggu":
            found.append(external_id)
        if len(found) == count:
            return found
    raise AssertionError(f"fewer than {count} SUBMITTED reports at {NODE}")


async def _hold(hub: Hub, sandbox: Sandbox, external_id: str, label: str) -> ReviewRow:
    """Shows ``label`` at the node and pulls: the item the hub holds for it."""
    await sandbox.set_status(NODE, external_id, label)
    await hub.ingest.pull_once(hub.federation[NODE])
    rows = await hub.db.rows(ReviewRow, "open_reviews", 100)
    held = [r for r in rows if r.external_id == external_id and r.raw_state == label]
    assert len(held) == 1, rows
    return held[0]


async def _state(hub: Hub, external_id: str) -> tuple[ReportState, int]:
    row = await hub.db.fetchrow("report_by_ref", NODE, external_id)
    assert row is not None
    return ReportState(row["state"]), row["version"]


async def test_an_admin_applies_a_held_status_as_the_node_system_once(
    hub: Hub, sandbox: Sandbox
) -> None:
    (external_id,) = await _submitted(hub, sandbox)
    item = await _hold(hub, sandbox, external_id, ODD)
    assert "unmapped status" in item.reason
    assert await _state(hub, external_id) == (ReportState.SUBMITTED, 1)

    apply = Resolution(item.id, ReviewAction.APPLY, state=ReportState.VERIFIED)
    closed = await hub.review.resolve(apply, ADMIN)
    assert (closed.resolution, closed.resolved_by) == ("APPLY", ADMIN)
    assert closed.resolved_at is not None
    assert await _state(hub, external_id) == (ReportState.VERIFIED, 2)
    # Recorded as the node's own system's change, so it is not written back to it.
    last = await hub.db.pool.fetchrow(
        "SELECT h.actor_node, h.actor_role FROM report_history h "
        "JOIN external_refs e ON e.report_id = h.report_id "
        "WHERE e.node_code = $1 AND e.external_id = $2 ORDER BY h.version DESC LIMIT 1",
        NODE,
        external_id,
    )
    assert last is not None
    assert (last["actor_node"], last["actor_role"]) == (NODE, "NODE_SYSTEM")
    audited = await hub.db.pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'REVIEW_APPLY' AND client_id = $1", ADMIN
    )
    assert audited == 1
    with pytest.raises(BadInput, match=f"review item {item.id} is already resolved"):
        await hub.review.resolve(apply, ADMIN)
    assert await _state(hub, external_id) == (ReportState.VERIFIED, 2)


async def test_a_remembered_label_is_applied_without_review_next_time(
    hub: Hub, sandbox: Sandbox
) -> None:
    first, second = await _submitted(hub, sandbox, 2)
    item = await _hold(hub, sandbox, first, ODD)
    decision = Resolution(item.id, ReviewAction.APPLY, state=ReportState.VERIFIED, remember=True)
    await hub.review.resolve(decision, ADMIN)
    learned = await hub.db.fetch("vocabulary_of_node", NODE)
    assert [(r["raw_state"], r["state"], r["version"]) for r in learned] == [(ODD, "VERIFIED", 1)]

    await sandbox.set_status(NODE, second, ODD)
    await hub.ingest.pull_once(hub.federation[NODE])
    assert await _state(hub, second) == (ReportState.VERIFIED, 2)
    assert [r.external_id for r in await hub.db.rows(ReviewRow, "open_reviews", 100)] == []
    # Another node's same label is not taught by this one.
    assert await hub.db.fetch("vocabulary_of_node", "16.71") == []


async def test_held_changes_of_one_report_are_applied_in_their_order(
    hub: Hub, sandbox: Sandbox
) -> None:
    (external_id,) = await _submitted(hub, sandbox)
    earlier = await _hold(hub, sandbox, external_id, ODD)
    later = await _hold(hub, sandbox, external_id, UNCLEAR)
    apply_later = Resolution(later.id, ReviewAction.APPLY, state=ReportState.POSTPONED)
    with pytest.raises(BadInput, match=f"review item {earlier.id} holds an earlier change"):
        await hub.review.resolve(apply_later, ADMIN)
    assert await _state(hub, external_id) == (ReportState.SUBMITTED, 1)

    dismiss = Resolution(earlier.id, ReviewAction.DISMISS, note="Status sementara, diabaikan.")
    closed = await hub.review.resolve(dismiss, ADMIN)
    assert (closed.resolution, closed.resolution_note) == ("DISMISS", dismiss.note)
    await hub.review.resolve(apply_later, ADMIN)
    assert await _state(hub, external_id) == (ReportState.POSTPONED, 2)


async def test_a_held_change_seen_again_is_neither_queued_nor_logged_again(
    hub: Hub, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    (external_id,) = await _submitted(hub, sandbox)
    await _hold(hub, sandbox, external_id, ODD)
    hub.ingest.bulk = False  # read every change again, one by one
    await hub.db.pool.execute("DELETE FROM node_watermarks WHERE node_code = $1", NODE)
    before = hub.ingest.stats[NODE].reviewed
    with caplog.at_level(logging.INFO, logger="hub.ingest.pull"):
        await hub.ingest.pull_once(hub.federation[NODE])
    assert hub.ingest.stats[NODE].reviewed == before
    assert [r for r in caplog.records if "to review" in r.getMessage()] == []
    count = await hub.db.pool.fetchval(
        "SELECT count(*) FROM review_queue WHERE node_code = $1 AND external_id = $2",
        NODE,
        external_id,
    )
    assert count == 1


async def test_what_cannot_be_applied_is_refused_with_a_reason(hub: Hub, sandbox: Sandbox) -> None:
    (external_id,) = await _submitted(hub, sandbox)
    item = await _hold(hub, sandbox, external_id, ODD)
    with pytest.raises(NotFound, match="no review item 999999"):
        await hub.review.resolve(Resolution(999999, ReviewAction.DISMISS, note="x"), ADMIN)
    # SUBMITTED -> COMPLETED passes a disposition (verify, dispose, follow up, complete):
    # without its institution, or with one the hub does not know, nothing is applied.
    completed = Resolution(item.id, ReviewAction.APPLY, state=ReportState.COMPLETED)
    with pytest.raises(BadInput, match="needs the institution it goes to"):
        await hub.review.resolve(completed, ADMIN)
    nowhere = replace(completed, institution_code="opd-16-nowhere")
    with pytest.raises(BadInput, match="'opd-16-nowhere' is not known to the hub"):
        await hub.review.resolve(nowhere, ADMIN)
    with pytest.raises(BadInput, match="a disposition needs the institution"):
        await hub.review.resolve(Resolution(item.id, ReviewAction.APPLY, verb=Verb.DISPOSE), ADMIN)
    # Nothing was half-applied: the report and the item are as they were.
    assert await _state(hub, external_id) == (ReportState.SUBMITTED, 1)
    still = await hub.db.row(ReviewRow, "review_item", item.id)
    assert still is not None
    assert still.resolved_at is None


@pytest.mark.parametrize(
    ("decision", "message"),
    [
        (Resolution(1, ReviewAction.DISMISS), "needs a note saying why"),
        (Resolution(1, ReviewAction.DISMISS, note="  "), "needs a note saying why"),
        (Resolution(1, ReviewAction.DISMISS, note="x", state=ReportState.VERIFIED), "no state"),
        (Resolution(1, ReviewAction.APPLY), "a state or a verb, exactly one"),
        (
            Resolution(1, ReviewAction.APPLY, state=ReportState.VERIFIED, verb=Verb.VERIFY),
            "a state or a verb, exactly one",
        ),
        (Resolution(1, ReviewAction.APPLY, verb=Verb.SUBMIT), "SUBMIT is not a move"),
        (Resolution(1, ReviewAction.APPLY, verb=Verb.VERIFY, remember=True), "remember needs"),
        (Resolution(1, ReviewAction.DISMISS, note="x" * 2001), "longer than 2000"),
    ],
)
def test_a_decision_that_does_not_fit_together_is_refused(
    decision: Resolution, message: str
) -> None:
    with pytest.raises(BadInput, match=message):
        decision.check()


async def _error(gql: GraphQLClient, given: dict[str, object]) -> tuple[str, str]:
    """The code and message of the one error ``resolveReviewItem`` answers ``given`` with."""
    response = await gql.http.post(
        "/graphql", json={"query": RESOLVE, "variables": {"input": given}}, headers=gql.headers
    )
    (error,) = response.json()["errors"]
    return error["extensions"]["code"], error["message"]


RESOLVE = """
mutation Resolve($input: ResolveReviewItemInput!) {
  resolveReviewItem(input: $input) {
    id resolution resolutionNote resolvedBy resolvedAt
  }
}
"""


async def test_an_admin_works_the_queue_through_graphql(
    connected_app: Starlette, admin_gql: GraphQLClient, sandbox: Sandbox
) -> None:
    db = connected_app.state.database
    node = "lapor"  # pulled every 0.2 s by connected_app
    external_id = next(iter(await sandbox.inventory(node)))
    for _ in range(300):
        row = await db.fetchrow("report_by_ref", node, external_id)
        if row is not None:
            break
        await asyncio.sleep(0.05)
    assert row is not None
    sandbox.introduce_status(node, ODD)  # no mapping knows it
    await sandbox.set_status(node, external_id, ODD)
    query = "{ reviewQueue(first: 10) { id externalId rawState resolution } }"
    for _ in range(300):
        items = (await admin_gql.data(query))["reviewQueue"]
        if items:
            break
        await asyncio.sleep(0.05)
    assert [(i["externalId"], i["rawState"], i["resolution"]) for i in items] == [
        (external_id, ODD, None)
    ]
    item_id = items[0]["id"]

    token = await token_for(connected_app, "palembang-app", "16.71", ["node:16.71:write"])
    node_client = GraphQLClient(admin_gql.http, token)
    dismiss = {"id": item_id, "action": "DISMISS", "note": "Status uji coba."}
    assert await _error(node_client, dismiss) == (
        "FORBIDDEN",
        "the review queue is for the province's admins",
    )
    code, message = await _error(admin_gql, {"id": item_id, "action": "DISMISS"})
    assert (code, "needs a note" in message) == ("BAD_INPUT", True)
    code, message = await _error(admin_gql, {**dismiss, "id": str(uuid.uuid4())})
    assert (code, "is not a review item id" in message) == ("BAD_INPUT", True)

    done = (await admin_gql.data(RESOLVE, input=dismiss))["resolveReviewItem"]
    assert (done["id"], done["resolution"], done["resolutionNote"], done["resolvedBy"]) == (
        item_id, "DISMISS", "Status uji coba.", "test-admin"
    )  # fmt: skip
    assert (await admin_gql.data(query))["reviewQueue"] == []
