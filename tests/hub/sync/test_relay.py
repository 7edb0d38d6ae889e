"""The outbox relay: several relays at once send each event once and in order; the
in-process bus carries the same sync for the demo."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict

import httpx
from starlette.applications import Starlette

from hub.app import create_app
from hub.domain.service import ReportService
from hub.settings import AuthSettings, Secret, Settings, SyncMode
from hub.store.database import Database
from hub.sync.bus import Topics
from hub.sync.kafka import KafkaBus
from hub.sync.relay import OutboxRelay
from hub.sync.service import SyncService
from tests.conftest import KEY_DIR
from tests.hub.sync.conftest import sinks, wait_until
from tests.hub.sync.workload import drive, expected_holdings


async def test_two_relays_publish_every_event_once_and_in_order(
    app: Starlette, kafka_bootstrap: str, topic_prefix: str
) -> None:
    service: ReportService = app.state.service
    db: Database = app.state.database
    await drive(service, 1500, seed=3)
    bus = KafkaBus(kafka_bootstrap, Topics(prefix=topic_prefix, partitions=3))
    await bus.start()
    try:
        relays = [OutboxRelay(db, bus), OutboxRelay(db, bus)]
        stop = asyncio.Event()
        tasks = [asyncio.create_task(r.run(stop)) for r in relays]
        try:
            await wait_until(lambda: _backlog(db), within=60, what="the outbox to drain")
        finally:
            stop.set()
            await asyncio.gather(*tasks)
        assert sum(r.published for r in relays) == 1500
        # Together the relays held every slice. (When the first one stops and lets
        # its slices go, the other may take them over: that is the hand-over.)
        assert {s for r in relays for s in r.slices} == set(range(16))

        consumer = await bus.consumer(bus.topics.events, None, from_start=True)
        seen: defaultdict[str, list[int]] = defaultdict(list)
        ids: list[str] = []
        try:
            while len(ids) < 1500:
                messages = await consumer.poll(2, 1000)
                assert messages, f"only {len(ids)} of 1500 events on the wire"
                for m in messages:
                    headers = dict(m.headers)
                    ids.append(headers["ce_id"].decode())
                    assert m.value is not None
                    seen[headers["ce_subject"].decode()].append(json.loads(m.value)["version"])
        finally:
            await consumer.stop()
    finally:
        await bus.stop()
    assert len(set(ids)) == len(ids) == 1500
    for report, versions in seen.items():
        assert versions == list(range(1, len(versions) + 1)), report


async def _backlog(db: Database) -> bool:
    backlog: int = await db.fetchval("outbox_backlog")
    return backlog == 0


async def test_the_in_process_bus_syncs_like_kafka(database_url: str) -> None:
    settings = Settings(
        database_url=Secret(database_url), sync=SyncMode.MEMORY, auth=AuthSettings(key_dir=KEY_DIR)
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        sync: SyncService = app.state.sync
        assert "in-process" in sync.bus.description
        await drive(app.state.service, 600, seed=5)
        expected = await expected_holdings(database_url)
        nodes = sinks(app)
        await wait_until(
            lambda: all(nodes[n].latest() == held for n, held in expected.items()),
            what="the in-process sinks to converge",
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as http:
            body = (await http.post("/graphql", json={"query": "{ nodes { code lag } }"})).json()
            assert {n["code"]: n["lag"] for n in body["data"]["nodes"]}["lapor"] == 0
            metrics = (await http.get("/metrics")).text
            assert 'sp4n_sink_lag{node="lapor"} 0.0' in metrics
            assert 'sp4n_sink_applied_total{node="lapor"}' in metrics
