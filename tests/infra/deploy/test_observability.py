"""The Prometheus alert rules and the Grafana dashboard: the rules pass Prometheus's own
`promtool check rules` and their unit tests (`promtool test rules`), and every metric the
rules and the dashboard's queries name is in what a real hub serves at /metrics (started
as the fixtures start it, serving sandbox nodes through their connectors), which passes
`promtool check metrics`; and every metric the rules name is in what a real `sp4n-hub
worker --role sinks` process serves on its metrics port, as a split deployment's
Prometheus scrapes it."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import uuid
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from connectors.config import NodeTable
from connectors.sandbox.sandbox import Sandbox
from hub.app import create_app
from hub.settings import Settings, SyncMode
from infra.postgres import free_port
from tests.hub.processes import HubProcess, hub_env
from tests.infra.deploy.files import DEPLOY

ALERTS = DEPLOY / "prometheus" / "alerts.yaml"
DASHBOARD = DEPLOY / "grafana" / "sp4n-hub.json"
METRIC = re.compile(r"\bsp4n_[a-z0-9_]+\b")


def _promtool(
    *args: str, cwd: Path = ALERTS.parent, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    promtool = shutil.which("promtool")
    assert promtool is not None, "promtool is missing: `make promtool` installs it (Debian)"
    return subprocess.run(
        [promtool, *args], cwd=cwd, input=stdin, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
async def scraped(settings: Settings, table: NodeTable) -> dict[str, list[dict[str, str]]]:
    """Each metric name the hub serves (as scraped) with its samples' labels."""
    nodes = table.only({"16.07", "16", "lapor"})
    app = create_app(replace(settings, sync=SyncMode.MEMORY, connectors=True), node_table=nodes)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as http:
            # A scrape whose backlog queries take over a second leaves the backlogs out
            # (sp4n_database_up 0); on a busy machine, scrape again.
            for _ in range(30):
                text = (await http.get("/metrics")).text
                if "sp4n_database_up 1.0" in text:
                    break
                await asyncio.sleep(0.5)
            assert "sp4n_database_up 1.0" in text
    # Prometheus's own lint of the exposition (names, help, types, counters' _total).
    return await _linted_samples(text)


async def _linted_samples(text: str) -> dict[str, list[dict[str, str]]]:
    """Each metric name in an exposition with its samples' labels, once promtool passed it."""
    lint = await asyncio.to_thread(_promtool, "check", "metrics", stdin=text)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    samples: dict[str, list[dict[str, str]]] = defaultdict(list)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[sample.name].append(sample.labels)
    return dict(samples)


@pytest.fixture
async def worker_scraped(
    database_url: str, kafka_bootstrap: str, sandbox: Sandbox, tmp_path: Path
) -> dict[str, list[dict[str, str]]]:
    """What a real sinks worker (three sandbox nodes) serves on its metrics port."""
    port = free_port()
    env = hub_env(
        DATABASE_URL=database_url,
        KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap,
        SP4N_KAFKA_TOPIC_PREFIX=f"t{uuid.uuid4().hex[:10]}.",
        SP4N_KAFKA_PARTITIONS="3",
        SP4N_CONNECTORS="1",
        SP4N_METRICS_PORT=str(port),
        SP4N_KEY_DIR=str(tmp_path / "keys"),
        **sandbox.env(),
    )
    args = ["worker", "--role", "sinks", "--nodes", "16.07,16,lapor"]
    worker = HubProcess("sinks worker", args, env, port, tmp_path / "worker.log")
    worker.start()
    try:
        await worker.ready()
        async with httpx.AsyncClient(base_url=worker.url, timeout=5) as http:
            for _ in range(30):
                text = (await http.get("/metrics")).text
                if "sp4n_database_up 1.0" in text:
                    break
                await asyncio.sleep(0.5)
        assert "sp4n_database_up 1.0" in text
    finally:
        await worker.stop()
    return await _linted_samples(text)


def _rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(ALERTS.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_promtool_finds_the_rules_valid() -> None:
    done = _promtool("check", "rules", ALERTS.name)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(_rules())} rules found" in done.stdout


def test_each_alert_fires_on_what_it_is_for_and_not_before_its_time() -> None:
    done = _promtool("test", "rules", "alerts.test.yaml")
    assert done.returncode == 0, done.stdout + done.stderr


def test_promtool_refuses_a_broken_rule(tmp_path: Path) -> None:
    broken = tmp_path / "alerts.yaml"
    broken.write_text(ALERTS.read_text().replace("sum by (node) (sp4n_sink_lag)", "sum by (node"))
    done = _promtool("check", "rules", broken.name, cwd=tmp_path)
    assert done.returncode != 0


def test_the_alerts_cover_lag_backlog_dead_letters_circuits_and_the_projection() -> None:
    named = {name for rule in _rules() for name in METRIC.findall(rule["expr"])}
    assert {
        "sp4n_sink_lag",
        "sp4n_outbox_oldest_unpublished_seconds",
        "sp4n_sink_dead_lettered_total",
        "sp4n_node_circuit_open",
        "sp4n_ministry_projection_lag_seconds",
    } <= named
    for rule in _rules():
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]


def _used_labels(expr: str) -> set[str]:
    return {label for group in re.findall(r"by \(([^)]*)\)", expr) for label in group.split(",")}


def _check_against_scrape(exprs: list[str], scraped: dict[str, list[dict[str, str]]]) -> None:
    for expr in exprs:
        names = METRIC.findall(expr)
        assert names, f"{expr!r} names no hub metric"
        for name in names:
            assert name in scraped, f"{name} (in {expr!r}) is not in the hub's /metrics"
            for label in _used_labels(expr) - {"instance", "job"}:
                assert all(label.strip() in s for s in scraped[name]), (name, label)


def test_every_metric_the_alerts_name_is_served_by_the_hub(
    scraped: dict[str, list[dict[str, str]]],
) -> None:
    _check_against_scrape([rule["expr"] for rule in _rules()], scraped)
    # The check bites: a misspelt metric, a label the metric does not carry.
    with pytest.raises(AssertionError, match="sp4n_sink_lagg"):
        _check_against_scrape(["max by (node) (sp4n_sink_lagg) > 1000"], scraped)
    with pytest.raises(AssertionError, match="region"):
        _check_against_scrape(["max by (region) (sp4n_outbox_backlog)"], scraped)


def test_a_sinks_worker_serves_every_metric_the_alerts_name(
    worker_scraped: dict[str, list[dict[str, str]]],
) -> None:
    """In a split deployment the lag, dead-letter and circuit alerts read the workers."""
    _check_against_scrape([rule["expr"] for rule in _rules()], worker_scraped)
    assert {s["node"] for s in worker_scraped["sp4n_sink_lag"]} == {"16.07", "16", "lapor"}


def _dashboard() -> dict[str, Any]:
    dashboard: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return dashboard


def _grafana_free(expr: str) -> str:
    """A query with Grafana's variables replaced by what they stand for, as PromQL."""
    return expr.replace("$__rate_interval", "5m").replace("$__range", "1h").replace("$node", ".*")


def test_the_dashboard_is_well_formed() -> None:
    dashboard = _dashboard()
    assert dashboard["uid"] == "sp4n-hub"
    assert isinstance(dashboard["schemaVersion"], int)
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    panels = dashboard["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"], panel["title"]
        assert len({t["refId"] for t in panel["targets"]}) == len(panel["targets"])
    # No two panels overlap on the grid.
    cells: set[tuple[int, int]] = set()
    for panel in panels:
        g = panel["gridPos"]
        mine = {
            (x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])
        }
        assert not cells & mine, panel["title"]
        cells |= mine


def test_every_dashboard_query_is_promql_over_metrics_the_hub_serves(
    scraped: dict[str, list[dict[str, str]]], tmp_path: Path
) -> None:
    dashboard = _dashboard()
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    node = next(v for v in dashboard["templating"]["list"] if v["name"] == "node")
    _check_against_scrape([*exprs, node["definition"]], scraped)
    # promtool parses each query as a recording rule's expression.
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"dashboard:query_{i}", "expr": _grafana_free(e)}
                    for i, e in enumerate(exprs)
                ],
            }
        ]
    }
    (tmp_path / "queries.yaml").write_text(yaml.safe_dump(rules))
    done = _promtool("check", "rules", "queries.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
