"""Each node's freshness and health, and the review queue, through GraphQL."""

from __future__ import annotations

import asyncio

from starlette.applications import Starlette

from connectors.sandbox.faults import Fault
from connectors.sandbox.sandbox import Sandbox
from tests.fixtures.app import GraphQLClient, token_for

NODES = "{ nodes { code circuit lastPulledAt health { healthy consecutiveFailures } } }"


async def _nodes(gql: GraphQLClient) -> dict[str, dict[str, object]]:
    data = await gql.data(NODES)
    return {n["code"]: n for n in data["nodes"]}


async def test_a_failing_node_shows_its_circuit_open_and_the_others_stay_fresh(
    connected_app: Starlette, admin_gql: GraphQLClient, sandbox: Sandbox
) -> None:
    sandbox.fault("lapor", Fault.ERROR)
    for _ in range(300):
        nodes = await _nodes(admin_gql)
        if nodes["lapor"]["circuit"] == "OPEN" and nodes["16.07"]["lastPulledAt"]:
            break
        await asyncio.sleep(0.05)
    assert nodes["lapor"]["circuit"] == "OPEN"
    health = nodes["lapor"]["health"]
    assert isinstance(health, dict)
    assert health["healthy"] is False
    assert health["consecutiveFailures"] >= 5  # the table's failure threshold
    assert nodes["16.07"]["circuit"] == "CLOSED"
    assert nodes["16.07"]["lastPulledAt"] is not None
    assert nodes["16.01"]["circuit"] is None  # no connector for it in this hub
    # The same in /metrics, for an alert: the open circuit is 1, a closed one 0, and a
    # node this hub runs no connector for is not there.
    metrics = (await admin_gql.http.get("/metrics")).text
    assert 'sp4n_node_circuit_open{node="lapor"} 1.0' in metrics
    assert 'sp4n_node_circuit_open{node="16.07"} 0.0' in metrics
    assert 'sp4n_node_circuit_open{node="16.01"}' not in metrics


async def test_the_review_queue_lists_what_a_node_showed_unmapped(
    connected_app: Starlette, admin_gql: GraphQLClient, sandbox: Sandbox
) -> None:
    db = connected_app.state.database
    external_id = next(iter(await sandbox.inventory("lapor")))
    for _ in range(300):
        if await db.fetchrow("report_by_ref", "lapor", external_id):
            break
        await asyncio.sleep(0.05)
    sandbox.introduce_status("lapor", "Menunggu Tanggapan")  # no mapping knows it
    await sandbox.set_status("lapor", external_id, "Menunggu Tanggapan")
    query = "{ reviewQueue(first: 10) { nodeCode externalId rawState reason reportId } }"
    for _ in range(300):
        items = (await admin_gql.data(query))["reviewQueue"]
        if items:
            break
        await asyncio.sleep(0.05)
    assert [(i["nodeCode"], i["externalId"], i["rawState"]) for i in items] == [
        ("lapor", external_id, "Menunggu Tanggapan")
    ]
    assert items[0]["reportId"] is not None


async def test_the_review_queue_is_for_admins(public_gql: GraphQLClient) -> None:
    body = await public_gql.execute("{ reviewQueue { nodeCode } }")
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_operators_see_which_connector_serves_each_node(
    connected_app: Starlette, admin_gql: GraphQLClient
) -> None:
    query = "{ nodes { code connector { kind endpoint pollIntervalSeconds } } }"
    nodes = {n["code"]: n["connector"] for n in (await admin_gql.data(query))["nodes"]}
    table = connected_app.state.federation
    assert nodes["16.07"] == {
        "kind": "graphql",
        "endpoint": table["16.07"].config.url,  # the sandbox's URL holds no secret
        "pollIntervalSeconds": 0.2,
    }
    assert nodes["lapor"]["kind"] == "lapor"
    assert nodes["16.01"] is None  # no connector for it in this hub

    token = await token_for(connected_app, "palembang-app", "16.71", ["node:16.71:read"])
    response = await admin_gql.http.post(
        "/graphql",
        json={"query": "{ nodes { code connector { kind } } }"},
        headers={"authorization": f"Bearer {token}"},
    )
    errors = response.json()["errors"]
    assert {e["extensions"]["code"] for e in errors} == {"FORBIDDEN"}
