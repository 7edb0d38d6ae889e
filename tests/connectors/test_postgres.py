"""Database-only nodes, against a real PostgreSQL: the mapping is the SQL."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from connectors.config import NodeTable
from connectors.errors import CircuitOpen, NodeRejected, NodeTableError, NodeUnavailable
from connectors.postgres import PostgresConnector
from connectors.protocol import Dependencies
from connectors.resilience import CircuitState, ResiliencePolicy
from connectors.sandbox.sandbox import Sandbox
from schema.lifecycle import ReportState
from tests.connectors.conftest import Connect, Directory, content_for, event_for, latest, pull_all

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


async def test_a_create_query_of_the_earlier_form_is_followed_by_the_state_write(
    sandbox: Sandbox, connect: Connect, table: NodeTable
) -> None:
    """A node table written before creations carried the event ($1-$11: the report and
    its status label) still works: the event is written by apply_query after it."""
    packaged = str(table[NODE].options["create_query"])
    earlier = packaged.replace(
        "$11, $12, ARRAY[$13::text], $14::integer,", "$11, NULL, '{}', NULL,"
    )
    assert earlier != packaged
    report_id = str(uuid.uuid4())
    event = event_for(None, None, ReportState.VERIFIED, report_id=report_id)
    directory = Directory({report_id: content_for(report_id, "16.12")})
    async with connect(NODE, directory=directory, create_query=earlier) as connector:
        assert isinstance(connector, PostgresConnector)
        assert not connector.creates_with_state
        await connector.apply(event)
        [(_, _, external_id)] = directory.links
        shown = await connector.find(event, external_id)
    assert shown is not None
    assert shown.raw_state == table[NODE].status.to_external(ReportState.VERIFIED)
    assert shown.events == frozenset({event.event_id})  # written by the apply_query


async def test_a_create_query_of_neither_form_is_refused_with_the_forms_it_may_take(
    table: NodeTable,
) -> None:
    packaged = str(table[NODE].options["create_query"])
    twelve = packaged.replace("ARRAY[$13::text], $14::integer,", "'{}', NULL,")
    config = replace(table[NODE], options={**table[NODE].options, "create_query": twelve})
    with pytest.raises(NodeTableError, match=r"create_query ends at \$12: it takes \$1-\$14"):
        PostgresConnector(config, Dependencies())
