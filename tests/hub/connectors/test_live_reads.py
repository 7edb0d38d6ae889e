"""Attachments are read live from the node; a node that is down fails that field only."""

from __future__ import annotations

import asyncio

from starlette.applications import Starlette

from connectors.sandbox.faults import Fault
from connectors.sandbox.sandbox import Sandbox
from tests.fixtures.app import GraphQLClient

NODE = "16.07"
QUERY = """
query Live($node: String!, $id: String!) {
  reportByRef(node: $node, externalId: $id) { title attachments { ref name mediaType url } }
}
"""


async def test_attachments_are_read_live_and_a_down_node_fails_only_that_field(
    connected_app: Starlette, admin_gql: GraphQLClient, sandbox: Sandbox
) -> None:
    db = connected_app.state.database
    inventory = await sandbox.inventory(NODE)
    external_id, (_, attachment_ids) = next((e, v) for e, v in inventory.items() if v[1])
    for _ in range(300):
        if await db.fetchrow("report_by_ref", NODE, external_id):
            break
        await asyncio.sleep(0.05)
    data = await admin_gql.data(QUERY, node=NODE, id=external_id)
    report = data["reportByRef"]
    assert report["title"]
    assert sorted(a["ref"] for a in report["attachments"]) == sorted(attachment_ids)
    assert all(a["url"] and a["mediaType"] for a in report["attachments"])

    sandbox.fault(NODE, Fault.ERROR)
    body = await admin_gql.execute(QUERY, node=NODE, id=external_id)
    assert body["data"]["reportByRef"]["title"] == report["title"]
    assert body["data"]["reportByRef"]["attachments"] is None
    [error] = body["errors"]
    assert error["path"] == ["reportByRef", "attachments"]
    assert error["extensions"]["source"] == NODE
    assert error["extensions"]["code"] in ("NODE_UNAVAILABLE", "CIRCUIT_OPEN")
    assert error["extensions"]["retryable"] is True
