"""Rebuilding a node from the state topic: the library call and the CLI, on the real
broker; the CLI writes through the node's connector (here into the sandbox) or refuses."""

from __future__ import annotations

import asyncio
import os
import re
import sys
import uuid
from collections.abc import Mapping

import asyncpg
import pytest
from starlette.applications import Starlette

from connectors.config import NodeTable, load_node_table
from connectors.sandbox.sandbox import Sandbox
from hub.cli.main import _replay_targets
from hub.domain.service import ReportService
from hub.errors import ConfigError
from hub.federation import build_federation
from hub.settings import Secret, Settings
from hub.store.database import Database
from hub.sync.replay import replay_state
from hub.sync.sink import SinkWorker
from hub.sync.supervisor import SyncSupervisor
from schema.lifecycle import ReportState
from tests.doubles import RecordingSink
from tests.fixtures.postgres import ROOT
from tests.fixtures.sandbox import default_table_env
from tests.hub.sync.conftest import sinks, wait_until
from tests.hub.sync.workload import drive, expected_holdings


async def _converged(app: Starlette, url: str) -> dict[str, dict[str, int]]:
    """Waits until every running sink holds what it should; returns the holdings."""
    expected = await expected_holdings(url)
    nodes = sinks(app)
    await wait_until(
        lambda: all(nodes[n].latest() == held for n, held in expected.items()),
        what="every node sink to converge",
    )

    # A sink records what it applied just after applying it: wait for that record too,
    # or a test that edits it races the sink's last write.
    async def recorded() -> bool:
        for node, held in expected.items():
            if await _sink_versions(url, node) != held:
                return False
        return True

    await wait_until(recorded, what="every sink's record of what it applied")
    return expected


def _fresh_worker(app: Starlette, node: str) -> tuple[SinkWorker, RecordingSink]:
    """A new sink for ``node``, as if its system had just been wiped, and its worker."""
    sync: SyncSupervisor = app.state.sync
    db: Database = app.state.database
    sink = RecordingSink(node)
    return SinkWorker(sink, sync.bus, db), sink


async def _sink_versions(url: str, node: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT report_id, version FROM sink_versions WHERE node_code = $1", node
        )
    finally:
        await conn.close()
    return {str(r["report_id"]): r["version"] for r in rows}


async def test_a_wiped_node_is_rebuilt_and_a_second_replay_changes_nothing(
    sync_app: Starlette, database_url: str
) -> None:
    service: ReportService = sync_app.state.service
    sync: SyncSupervisor = sync_app.state.sync
    await drive(service, 150, seed=11, concurrency=6)
    expected = await _converged(sync_app, database_url)
    running = sinks(sync_app)

    # The national node holds every report; the province only some, several of
    # them from a disposition on, which the replay must route the same way.
    for node in ("lapor", "16"):
        assert expected[node], f"the workload gave node {node} nothing to hold"
        worker, sink = _fresh_worker(sync_app, node)
        first = await replay_state(sync.bus, worker, reset=True)

        assert sink.latest() == running[node].latest() == expected[node]
        assert sink.applied_twice() == []
        # Versions arrive in order per report, so nothing is refused as stale
        # after a reset, whether or not compaction has run yet.
        assert (first.applied, first.stale, first.duplicates, first.dead_lettered) == (
            len(sink.received),
            0,
            0,
            0,
        )
        assert first.forgotten == len(expected[node])
        assert first.read >= len(expected["lapor"])
        assert await _sink_versions(database_url, node) == expected[node]

        # Again without a reset: the node has it all, so the inbox drops every
        # record it is involved in (at least each report's latest one).
        worker, sink = _fresh_worker(sync_app, node)
        again = await replay_state(sync.bus, worker, reset=False)
        assert (again.applied, again.stale, again.dead_lettered, again.forgotten) == (0, 0, 0, 0)
        assert again.duplicates >= len(expected[node])
        assert sink.received == []
        assert await _sink_versions(database_url, node) == expected[node]


async def test_a_node_behind_gets_only_what_it_misses(
    sync_app: Starlette, database_url: str
) -> None:
    service: ReportService = sync_app.state.service
    sync: SyncSupervisor = sync_app.state.sync
    await drive(service, 40, seed=5, concurrency=4)
    expected = await _converged(sync_app, database_url)
    some_report = next(iter(expected["lapor"]))
    # The hub forgets one report of the national node: only it comes back.
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            "DELETE FROM sink_inbox WHERE node_code = 'lapor' AND report_id = $1",
            uuid.UUID(some_report),
        )
        await conn.execute(
            "DELETE FROM sink_versions WHERE node_code = 'lapor' AND report_id = $1",
            uuid.UUID(some_report),
        )
    finally:
        await conn.close()

    worker, sink = _fresh_worker(sync_app, "lapor")
    result = await replay_state(sync.bus, worker, reset=False)

    assert {e.report_id for e in sink.received} == {some_report}
    assert sink.latest() == {some_report: expected["lapor"][some_report]}
    assert result.applied == len(sink.received)
    assert await _sink_versions(database_url, "lapor") == expected["lapor"]


async def test_a_replay_never_moves_a_node_backwards(
    sync_app: Starlette, database_url: str
) -> None:
    sync: SyncSupervisor = sync_app.state.sync
    await drive(sync_app.state.service, 40, seed=6, concurrency=4)
    expected = await _converged(sync_app, database_url)
    # Without its inbox, only the version guard stands between the older
    # versions still on the (not yet compacted) state topic and the node.
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("DELETE FROM sink_inbox WHERE node_code = 'lapor'")
    finally:
        await conn.close()

    worker, sink = _fresh_worker(sync_app, "lapor")
    result = await replay_state(sync.bus, worker, reset=False)

    assert sink.received == []
    assert (result.applied, result.duplicates, result.stale) == (0, 0, result.read)
    assert await _sink_versions(database_url, "lapor") == expected["lapor"]


async def test_progress_is_reported_up_to_the_total(sync_app: Starlette, database_url: str) -> None:
    sync: SyncSupervisor = sync_app.state.sync
    calls: list[tuple[int, int]] = []
    result = await replay_state(
        sync.bus,
        _fresh_worker(sync_app, "lapor")[0],
        reset=True,
        progress=lambda done, total: calls.append((done, total)),
    )
    # An empty topic is done at once, and says so.
    assert calls == [(0, 0)]
    assert result.read == 0

    await drive(sync_app.state.service, 30, seed=2, concurrency=3)
    await _converged(sync_app, database_url)
    ends = await sync.bus.end_offsets(sync.bus.topics.state)
    calls.clear()
    await replay_state(
        sync.bus,
        _fresh_worker(sync_app, "lapor")[0],
        reset=True,
        progress=lambda done, total: calls.append((done, total)),
    )
    total = sum(ends.values())
    assert total > 0
    assert calls[0] == (0, total)
    assert calls[-1] == (total, total)
    assert {t for _, t in calls} == {total}
    done = [d for d, _ in calls]
    assert done == sorted(done)


def _replay_env(settings: Settings, database_url: str, kafka_bootstrap: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "SP4N_KAFKA_TOPIC_PREFIX": settings.kafka_topic_prefix,
        "SP4N_KAFKA_PARTITIONS": str(settings.kafka_partitions),
    }
    env.pop("SP4N_CONNECTORS", None)
    return env


async def _run_replay(env: Mapping[str, str], *args: str) -> tuple[int | None, str]:
    """``sp4n-hub replay ...`` in a child process: its exit code and its output."""
    # Async, so the running hub's Kafka clients keep their heartbeats meanwhile.
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub.cli",
        "replay",
        *args,
        cwd=ROOT,
        env=dict(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    raw, _ = await asyncio.wait_for(process.communicate(), 180)
    return process.returncode, " ".join(raw.decode().split())  # rich wraps to the terminal


async def _hub_records(url: str) -> tuple[list[tuple[str, str, int]], int]:
    """Every node's recorded holdings (sink_versions) and the size of the inbox."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT node_code, report_id, version FROM sink_versions")
        inbox: int = await conn.fetchval("SELECT count(*) FROM sink_inbox")
    finally:
        await conn.close()
    return sorted((r["node_code"], str(r["report_id"]), r["version"]) for r in rows), inbox


async def test_the_replay_command_refuses_without_connectors_and_touches_nothing(
    sync_app: Starlette, sync_settings: Settings, database_url: str, kafka_bootstrap: str
) -> None:
    await drive(sync_app.state.service, 20, seed=9, concurrency=2)
    expected = await _converged(sync_app, database_url)
    before = await _hub_records(database_url)
    env = _replay_env(sync_settings, database_url, kafka_bootstrap)

    code, output = await _run_replay(env, "--node", "lapor", "--reset")

    # Nowhere to write: the node's record is neither forgotten nor rewritten.
    assert code == 2, output
    assert "SP4N_CONNECTORS is not 1" in output
    assert "nothing was replayed or forgotten" in output
    assert await _hub_records(database_url) == before
    assert await _sink_versions(database_url, "lapor") == expected["lapor"]


def test_a_replay_refuses_a_push_node_that_has_nowhere_to_write() -> None:
    """A push node without a webhook would only keep the events in the replaying
    process: recording them as held would claim what the node never received."""
    table = load_node_table(default_table_env()).with_node("16.11", url=None)
    settings = Settings(database_url=Secret("postgresql://never-opened"))
    federation = build_federation(Database("postgresql://never-opened"), settings, {}, table)
    unheard = r"push nodes without a webhook url to write to: 16\.11\)"
    with pytest.raises(ConfigError, match=unheard):
        _replay_targets(federation, ["lapor", "16.11"])
    assert [c.node_code for c in _replay_targets(federation, ["lapor", "16.72"])] == [
        "lapor",
        "16.72",
    ]


async def test_the_replay_command_rebuilds_a_node_through_its_connector(
    sync_app: Starlette,
    sync_settings: Settings,
    database_url: str,
    kafka_bootstrap: str,
    sandbox: Sandbox,
    table: NodeTable,
) -> None:
    """A wiped national node gets every report back in its own system, in its own
    vocabulary, written by its connector against the sandbox."""
    await drive(sync_app.state.service, 40, seed=9, concurrency=4)
    expected = await _converged(sync_app, database_url)
    assert expected["lapor"]
    assert not {hub_id for hub_id, _ in (await sandbox.inventory("lapor")).values()} & set(
        expected["lapor"]
    ), "the sandbox node held the hub's reports before the replay"

    env = {
        **_replay_env(sync_settings, database_url, kafka_bootstrap),
        **sandbox.env(),
        "SP4N_CONNECTORS": "1",
    }
    code, output = await _run_replay(env, "--node", "lapor", "--reset")

    assert code == 0, output
    assert "RecordingSink" not in output
    summary = re.search(
        r"node lapor: read ([\d,]+) state records; forgot ([\d,]+) held reports first; "
        r"applied ([\d,]+), stale 0, duplicates 0, dead-lettered 0",
        output,
    )
    assert summary is not None, output
    read, forgot, applied = (int(g.replace(",", "")) for g in summary.groups())
    assert forgot == len(expected["lapor"])
    assert applied == read  # every record concerns the national node
    assert await _sink_versions(database_url, "lapor") == expected["lapor"]

    # What the hub now records as held is in the node's own system, each report
    # showing its current state in the node's vocabulary.
    held = {hub_id: eid for eid, (hub_id, _) in (await sandbox.inventory("lapor")).items()}
    assert set(expected["lapor"]) <= set(held)
    states = await _states(database_url)
    mapping = table["lapor"].status
    for report_id in expected["lapor"]:
        shown = await sandbox.status_of("lapor", held[report_id])
        assert shown == mapping.to_external(states[report_id]), report_id


async def _states(url: str) -> dict[str, ReportState]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT id, state FROM reports")
    finally:
        await conn.close()
    return {str(r["id"]): ReportState(r["state"]) for r in rows}
