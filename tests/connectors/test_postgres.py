"""Database-only nodes, against a real PostgreSQL: the mapping is the SQL."""

from __future__ import annotations

from dataclasses import replace

import pytest

from connectors.config import NodeTable
from connectors.errors import CircuitOpen, NodeRejected, NodeTableError, NodeUnavailable
from connectors.postgres import PostgresConnector
from connectors.protocol import Dependencies
from connectors.resilience import CircuitState, ResiliencePolicy
from connectors.sandbox.sandbox import Sandbox
from schema.lifecycle import ReportState
from tests.connectors.conftest import Connect, event_for, latest, pull_all

NODE = "16.12"


async def test_pages_follow_the_change_counter_exactly(
    sandbox: Sandbox, connect: Connect, table: NodeTable
) -> None:
    async with connect(NODE, page_size=10) as connector:
        pages = await pull_all(connector)
        assert [len(p.changes) for p in pages] == [10, 10, 4]
        assert await pull_all(connector, pages[-1].watermark) == []  # keyset: no repeats
    changes = latest(pages)
    mapped = set(table[NODE].topics.codes.values())
    assert {c.topic_id for c in changes.values()} <= mapped
    assert all(c.raw_topic and c.raw_topic.isdigit() for c in changes.values())


async def test_a_label_the_database_refuses_is_a_rejection_not_an_outage(
    sandbox: Sandbox, table: NodeTable
) -> None:
    status = replace(table[NODE].status, outbound={**table[NODE].status.outbound,
                                                   ReportState.DISPOSED: "99"})  # fmt: skip
    connector = PostgresConnector(replace(table[NODE], status=status), Dependencies())
    await connector.start()
    try:
        with pytest.raises(NodeRejected, match="SQLSTATE 23514"):
            await connector.apply(event_for(NODE, "1", ReportState.DISPOSED))
        assert connector.health.circuit is CircuitState.CLOSED
        assert connector.health.consecutive_failures == 0
    finally:
        await connector.stop()


async def test_a_query_missing_a_canonical_column_names_it(table: NodeTable) -> None:
    query = str(table[NODE].options["changes_query"]).replace("p.judul AS title,", "")
    config = replace(table[NODE], options={**table[NODE].options, "changes_query": query})
    connector = PostgresConnector(config, Dependencies())
    await connector.start()
    try:
        with pytest.raises(
            NodeTableError, match=r"node 16\.12: options\.changes_query returns no column title"
        ):
            await pull_all(connector)
    finally:
        await connector.stop()


async def test_a_database_that_is_down_does_not_stop_the_start_and_opens_the_circuit(
    table: NodeTable,
) -> None:
    policy = ResiliencePolicy(timeout=2, attempts=2, backoff_base=0.01, backoff_max=0.01,
                              failure_threshold=2, reset_after=60)  # fmt: skip
    config = replace(table[NODE], url="postgresql://nobody@127.0.0.1:9/nothing", resilience=policy)
    connector = PostgresConnector(config, Dependencies())
    await connector.start()  # no connection is made yet
    try:
        with pytest.raises(NodeUnavailable):
            await pull_all(connector)
        assert connector.health.circuit is CircuitState.OPEN
        with pytest.raises(CircuitOpen):
            await connector.ping()
    finally:
        await connector.stop()
