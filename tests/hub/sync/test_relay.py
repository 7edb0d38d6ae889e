"""The outbox relay: several relays at once send each event once and in order; the
in-process bus carries the same sync for the demo; consumers receive the record
bytes the writer stored, and rows from before those were stored still go out."""

from __future__ import annotations

import asyncio
import json
import re
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
from hub.sync.supervisor import SyncSupervisor
from schema.envelope import Envelope, decode, encode
from schema.events import parse_event
from tests.doubles import recording_sinks
from tests.fixtures.app import KEY_DIR
from tests.fixtures.postgres import ROOT
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
    app = create_app(settings, sinks=recording_sinks())
    async with app.router.lifespan_context(app):
        sync: SyncSupervisor = app.state.sync
        assert "in-process" in sync.bus.description
        await drive(app.state.service, 600, seed=5)
        expected = await expected_holdings(database_url)
        nodes = sinks(app)
        await wait_until(
            lambda: all(nodes[n].latest() == held for n, held in expected.items()),
            what="the in-process sinks to converge",
        )
        # A sink reads its lag after it has recorded and committed a batch: a moment
        # after the node holds everything.
        await wait_until(lambda: sync.lag("lapor") == 0, what="the lapor sink's lag to settle")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as http:
            body = (await http.post("/graphql", json={"query": "{ nodes { code lag } }"})).json()
            assert {n["code"]: n["lag"] for n in body["data"]["nodes"]}["lapor"] == 0
            metrics = (await http.get("/metrics")).text
            assert 'sp4n_sink_lag{node="lapor"} 0.0' in metrics
            assert 'sp4n_sink_applied_total{node="lapor"}' in metrics
            # No crash here: nothing was in doubt, no duplicate had to be prevented.
            assert 'sp4n_sink_reconciled_total{node="lapor"} 0.0' in metrics
            assert 'sp4n_sink_duplicates_prevented_total{node="lapor"} 0.0' in metrics
            assert "sp4n_audit_unsealed " in metrics


async def _stored_records(db: Database) -> dict[str, Envelope]:
    """Each outbox row's record as its writer stored it, by event id."""
    rows = await db.pool.fetch(
        "SELECT event_id, record_key, record_value, record_header_names, record_header_values "
        "FROM outbox ORDER BY id"
    )
    stored = {}
    for r in rows:
        assert r["record_key"] is not None, "a writer left the record out"
        headers = list(zip(r["record_header_names"], r["record_header_values"], strict=True))
        stored[str(r["event_id"])] = Envelope(r["record_key"], r["record_value"], headers)
    return stored


async def _relay_all(db: Database, bus: KafkaBus) -> int:
    relay = OutboxRelay(db, bus)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        await wait_until(lambda: _backlog(db), within=60, what="the outbox to drain")
    finally:
        stop.set()
        await task
    return relay.published


async def _on_the_wire(bus: KafkaBus, topic: str, count: int) -> dict[str, Envelope]:
    """The first ``count`` records of ``topic`` exactly as a consumer receives them."""
    consumer = await bus.consumer(topic, None, from_start=True)
    received: dict[str, Envelope] = {}
    try:
        while len(received) < count:
            messages = await consumer.poll(2, 1000)
            assert messages, f"only {len(received)} of {count} records on {topic}"
            for m in messages:
                assert m.key is not None
                assert m.value is not None
                received[dict(m.headers)["ce_id"].decode()] = Envelope(m.key, m.value, m.headers)
    finally:
        await consumer.stop()
    return received


async def test_consumers_receive_the_bytes_stored_at_write_time(
    app: Starlette, kafka_bootstrap: str, topic_prefix: str
) -> None:
    service: ReportService = app.state.service
    db: Database = app.state.database
    await drive(service, 200, seed=4)
    stored = await _stored_records(db)
    assert len(stored) == 200
    # The record is the one codec's encoding of the event the row describes.
    for r in await db.pool.fetch("SELECT event_id, data FROM outbox"):
        event = parse_event(str(r["event_id"]), json.loads(r["data"]))
        assert stored[event.event_id] == encode(event)

    bus = KafkaBus(kafka_bootstrap, Topics(prefix=topic_prefix, partitions=3))
    await bus.start()
    try:
        assert await _relay_all(db, bus) == 200
        events = await _on_the_wire(bus, bus.topics.events, 200)
        state = await _on_the_wire(bus, bus.topics.state, 200)
    finally:
        await bus.stop()
    assert events == stored
    assert state == stored


async def test_a_row_written_before_migration_10_is_still_relayed(
    app: Starlette, kafka_bootstrap: str, topic_prefix: str
) -> None:
    """Rows from before the record columns hold only ``data``: the relay encodes them."""
    service: ReportService = app.state.service
    db: Database = app.state.database
    await drive(service, 30, seed=8)
    stored = await _stored_records(db)
    old = list(stored)[::2]
    await db.pool.execute(
        "UPDATE outbox SET record_key = NULL, record_value = NULL, record_header_names = NULL, "
        "record_header_values = NULL WHERE event_id = ANY($1::uuid[])",
        old,
    )
    bus = KafkaBus(kafka_bootstrap, Topics(prefix=topic_prefix, partitions=3))
    await bus.start()
    try:
        assert await _relay_all(db, bus) == 30
        events = await _on_the_wire(bus, bus.topics.events, 30)
    finally:
        await bus.stop()
    # Encoded from the row's data, an old row goes out as the writer would have
    # encoded it; the rest as stored.
    assert events == stored
    for event_id in old:
        r = events[event_id]
        assert decode(r.key, r.value, r.headers).event_id == event_id


def test_the_outbox_has_one_writer_and_it_uses_the_one_codec() -> None:
    """Only the domain service inserts outbox rows, through ``submission_write`` and
    ``transition_write``, whose record it makes with ``schema.envelope.encode``: no
    second codec."""
    runs = re.compile(
        r"\.(?:execute|executemany|fetch|fetchrow|fetchval)\(\s*\"(submission|transition)_write\""
    )
    users = sorted(
        (str(path.relative_to(ROOT)), name)
        for package in ("hub", "connectors", "bench")
        for path in (ROOT / package).rglob("*.py")
        for name in runs.findall(path.read_text(encoding="utf-8"))
    )
    assert users == [
        ("hub/domain/service.py", "submission"),
        ("hub/domain/service.py", "transition"),
    ]
    inserting = sorted(
        path.name
        for path in (ROOT / "hub" / "store" / "sql").glob("*.sql")
        if "INSERT INTO outbox" in path.read_text(encoding="utf-8").replace("\n", " ")
    )
    assert inserting == ["reports.sql"]
    writer = (ROOT / "hub" / "domain" / "service.py").read_text(encoding="utf-8")
    assert "from schema.envelope import encode" in writer
