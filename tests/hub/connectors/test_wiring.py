"""Settings for the connectors, the node table at the composition root, the hub's directory."""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path

import pytest

from connectors.config import DEFAULT_TABLE, NodeTable
from hub import wiring
from hub.app import create_app
from hub.domain.commands import Actor, Submit
from hub.domain.service import ReportService
from hub.errors import ConfigError
from hub.ingest.pull import HubDirectory, node_table_for
from hub.settings import Secret, Settings, SyncMode
from hub.store.database import Database
from hub.sync.supervisor import SyncSupervisor
from schema.report import ActorRole, Channel, PrivacyFlags, ReportKind
from tests.fixtures.sandbox import FAST, default_table_env


def test_a_configured_node_table_turns_the_connectors_on_unless_told_otherwise() -> None:
    assert Settings.from_env({}).connectors is False
    assert Settings.from_env({}).node_table is None
    settings = Settings.from_env({"SP4N_NODE_TABLE": "/etc/nodes.toml"})
    assert settings.connectors is True
    assert settings.node_table == Path("/etc/nodes.toml")
    assert "served through their connectors" in wiring.nodes_served(settings)
    off = Settings.from_env({"SP4N_CONNECTORS": "0", "SP4N_NODE_TABLE": "/etc/nodes.toml"})
    assert off.connectors is False
    assert "not served (SP4N_CONNECTORS=0)" in wiring.nodes_served(off)
    packaged = Settings.from_env({"SP4N_CONNECTORS": "1"})
    assert packaged.connectors is True
    assert "packaged connectors/nodes.toml" in wiring.nodes_served(packaged)
    assert "no node table" in wiring.nodes_served(Settings.from_env({}))
    with pytest.raises(ConfigError, match="SP4N_CONNECTORS"):
        Settings.from_env({"SP4N_CONNECTORS": "maybe"})


def test_with_connectors_off_the_hub_serves_no_node_sinks_but_still_publishes() -> None:
    """No test double stands in for the nodes: no sink records a state as held by a
    node nobody wrote to; the relay and the broadcaster still run."""
    settings = Settings(database_url=Secret("postgresql://never-opened"), sync=SyncMode.MEMORY)
    built = wiring.components(settings)
    assert built.federation is None
    assert built.ingest is None
    assert built.sync is not None
    assert built.sync.workers == {}
    assert built.sync.relay is not None


def test_with_connectors_on_every_node_sink_is_its_connector() -> None:
    settings = Settings(
        database_url=Secret("postgresql://never-opened"), sync=SyncMode.MEMORY, connectors=True
    )
    built = wiring.components(settings, env=default_table_env())
    assert built.federation is not None
    assert built.sync is not None
    assert {node: worker.sink for node, worker in built.sync.workers.items()} == dict(
        built.federation.connectors
    )


def test_the_packaged_node_table_loads_with_its_variables_set() -> None:
    assert len(node_table_for(default_table_env(), None)) == 19


def test_a_bad_node_table_is_a_config_error_naming_node_and_key(tmp_path: Path) -> None:
    text = DEFAULT_TABLE.read_text(encoding="utf-8")
    broken = tmp_path / "nodes.toml"
    broken.write_text(text.replace('[nodes."16.71"]', '[nodes."16.71"]\nbogus_key = 1', 1))
    with pytest.raises(ConfigError, match=r"16\.71.*bogus_key|bogus_key.*16\.71"):
        node_table_for(default_table_env(), broken)
    with pytest.raises(ConfigError, match="node table"):
        node_table_for({}, None)  # the URL variables are missing


async def _submit(db: Database, *, confidential: bool) -> uuid.UUID:
    report = await ReportService(db).execute(
        Submit(
            kind=ReportKind.ASPIRATION, title="Lampu jalan mati", content="Sudah seminggu.",
            region_code="16.71", topic_id=1, channel=Channel.INTEGRATED_APP,
            privacy=PrivacyFlags(confidential=confidential),
        ),
        Actor("16.71", ActorRole.INSTITUTION_ADMIN),
    )  # fmt: skip
    return report.id


async def test_the_directory_withholds_a_confidential_report_from_uninvolved_regencies(
    db: Database,
) -> None:
    directory = HubDirectory(db)
    secret = await _submit(db, confidential=True)
    public = await _submit(db, confidential=False)
    assert await directory.content(str(secret), "16.01") is None
    # SP4N-LAPOR!'s admins verify and forward every report, confidential ones too.
    national = await directory.content(str(secret), "lapor")
    assert national is not None
    assert national.privacy.confidential
    involved = await directory.content(str(secret), "16.71")
    assert involved is not None
    assert involved.privacy.confidential
    assert await directory.content(str(public), "16.01") is not None
    assert await directory.content(str(uuid.uuid4()), "16.71") is None


async def test_linking_twice_is_harmless(db: Database) -> None:
    directory = HubDirectory(db)
    report = await _submit(db, confidential=False)
    await directory.link(str(report), "16.01", "CRM-1")
    await directory.link(str(report), "16.01", "CRM-1")
    refs = await db.fetch("external_refs_of_report", report)
    assert [(r["node_code"], r["external_id"]) for r in refs] == [("16.01", "CRM-1")]


async def test_each_sink_writes_back_as_many_events_at_once_as_its_node_table_allows(
    settings: Settings, table: NodeTable
) -> None:
    two = table.only({"16.07", "lapor"})
    two = two.with_node("lapor", resilience=dataclasses.replace(FAST, concurrency=2))
    app = create_app(
        dataclasses.replace(settings, sync=SyncMode.MEMORY, connectors=True), node_table=two
    )
    async with app.router.lifespan_context(app):
        sync: SyncSupervisor = app.state.sync
        caps = {node: worker.concurrency for node, worker in sync.workers.items()}
    assert caps == {"16.07": FAST.concurrency, "lapor": 2}
