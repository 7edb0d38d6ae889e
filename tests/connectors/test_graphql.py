"""Regency GraphQL specifics: the node's own schema, errors as refusals."""

from __future__ import annotations

import pytest

from connectors.errors import NodeRejected
from connectors.sandbox.sandbox import Sandbox
from schema.lifecycle import ReportState
from tests.connectors.conftest import Connect, event_for, latest, pull_all

NODE = "16.07"


async def test_a_graphql_error_is_a_refusal_naming_the_message(connect: Connect) -> None:
    async with connect(NODE) as connector:
        with pytest.raises(NodeRejected, match="GraphQL error: aduan ADU-000 tidak ditemukan"):
            await connector.apply(event_for(NODE, "ADU-000", ReportState.DISPOSED))
        assert connector.health.consecutive_failures == 0


async def test_the_cursor_watermark_is_the_nodes_own(sandbox: Sandbox, connect: Connect) -> None:
    system = sandbox.systems[NODE]
    async with connect(NODE, page_size=10) as connector:
        pages = await pull_all(connector)
        assert [p.watermark for p in pages] == ["10", "20", "24"]
        report = system.by_seq()[0]
        system.set_status(report, "DITANGANI", "Sedang ditangani")
        news = await pull_all(connector, pages[-1].watermark)
    assert [(p.watermark, list(latest([p]))) for p in news] == [("25", [report.id])]


async def test_the_province_node_speaks_the_same_schema(sandbox: Sandbox, connect: Connect) -> None:
    async with connect("16") as connector:
        changes = latest(await pull_all(connector))
    assert set(changes) == set(sandbox.systems["16"].reports)
    assert {c.region_code for c in changes.values()} == {"16"}
    assert all(
        c.institution_code and c.institution_code.startswith("opd-16-") for c in changes.values()
    )
