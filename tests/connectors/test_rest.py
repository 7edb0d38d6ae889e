"""REST/JSON CRM specifics: the declarative mapping, both paginations, refusals."""

from __future__ import annotations

from dataclasses import replace

import pytest

from connectors.change import ChangePage
from connectors.config import Credential, NodeTable
from connectors.errors import NodeRejected
from connectors.protocol import Dependencies
from connectors.registry import default_registry
from connectors.sandbox.sandbox import Sandbox
from schema.lifecycle import ReportState
from tests.connectors.conftest import Connect, event_for, latest

CURSOR, PAGED = "16.01", "16.05"


@pytest.mark.parametrize("node", [CURSOR, PAGED])
async def test_a_report_updated_mid_pull_is_not_lost(
    sandbox: Sandbox, connect: Connect, node: str
) -> None:
    system = sandbox.systems[node]
    pages: list[ChangePage] = []
    async with connect(node, page_size=5) as connector:
        async for page in connector.pull(None):
            if not pages:
                # Staff touch a record already read: later offsets would shift by one.
                system.set_status(system.reports[page.changes[0].external_id], "Proses", "Diproses")
            pages.append(page)
    seen = latest(pages)
    assert set(seen) == set(system.reports)
    touched = pages[0].changes[0].external_id
    assert seen[touched].raw_state == "Proses"


async def test_fields_follow_the_declarative_mapping(sandbox: Sandbox, connect: Connect) -> None:
    async with connect(CURSOR) as connector:
        changes = latest([page async for page in connector.pull(None)])
    for external_id, report in sandbox.systems[CURSOR].reports.items():
        change = changes[external_id]
        assert (change.title, change.content, change.note) == (
            report.title,
            report.content,
            report.note,
        )
        assert (change.raw_topic, change.topic_id) == (report.category, report.topic_id)
        assert change.channel.value == report.channel
        assert change.incident_date == report.incident_date
        assert change.attachments == tuple(a.id for a in report.attachments)
        assert change.privacy.anonymous is report.anonymous


async def test_a_label_the_crm_refuses_is_a_rejection_and_the_node_stays_healthy(
    sandbox: Sandbox, table: NodeTable
) -> None:
    config = table[CURSOR]
    status = replace(
        config.status, outbound={**config.status.outbound, ReportState.VERIFIED: "Verifikasi"}
    )
    connector = default_registry().create(replace(config, status=status), Dependencies())
    await connector.start()
    try:
        with pytest.raises(NodeRejected, match="HTTP 422"):
            await connector.apply(event_for(CURSOR, "1001", ReportState.VERIFIED))
        assert connector.health.consecutive_failures == 0
    finally:
        await connector.stop()
    assert sandbox.systems[CURSOR].writes == 0


async def test_a_wrong_token_is_refused(table: NodeTable) -> None:
    config = replace(table[CURSOR], credentials=Credential("X", "salah"))
    connector = default_registry().create(config, Dependencies())
    await connector.start()
    try:
        with pytest.raises(NodeRejected, match="HTTP 401"):
            await connector.ping()
    finally:
        await connector.stop()
