"""What the hub really puts on its topics fits the AsyncAPI document it serves: every
record of a few real changes, read back from the broker, against the schemas of its
message in the document (headers, key, payload), and the guarantees the document states
(one partition per report, in version order; the state topic compacted)."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import httpx
import yaml
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from starlette.applications import Starlette

from hub.domain.commands import (
    Actor,
    Archive,
    Complete,
    Decline,
    Dispose,
    FollowUp,
    Postpone,
    Reopen,
    Reply,
    Submit,
    Verify,
)
from hub.domain.service import ReportService
from hub.sync.bus import EVENTS_TOPIC_CONFIG
from hub.sync.supervisor import SyncSupervisor
from schema.lifecycle import Verb
from schema.report import ActorRole, ArchiveReason, Channel, ComplaintSubKind, ReportKind
from tests.fixtures.kafka import records_on
from tests.hub.sync.conftest import sinks, wait_until
from tests.schema.asyncapi.check import check_record, messages_of

LAHAT = Actor("16.04", ActorRole.INSTITUTION_ADMIN)
PROVINCE = Actor("16", ActorRole.INSTITUTION_ADMIN)
EVENTS = 14  # the changes made below


def _submit(title: str) -> Submit:
    return Submit(
        kind=ReportKind.COMPLAINT,
        complaint_sub_kind=ComplaintSubKind.NON_SUPERVISORY,
        title=title,
        content="Isi laporan.",
        region_code="16.04",
        topic_id=301,
        channel=Channel.MOBILE_APP,
    )


async def _served_document(app: Starlette) -> dict[str, Any]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as http:
        response = await http.get("/asyncapi.yaml")
    assert response.status_code == 200
    document: dict[str, Any] = yaml.safe_load(response.text)
    return document


async def _wait_for_records(bootstrap: str, topic: str, partitions: int, count: int) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(partitions)]

        async def there() -> bool:
            ends: dict[TopicPartition, int] = await consumer.end_offsets(parts)
            return sum(ends.values()) >= count

        await wait_until(there, what=f"{count} records on {topic}")
    finally:
        await consumer.stop()


async def _topic_config(bootstrap: str, topic: str) -> dict[str, str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    finally:
        await admin.close()
    [(_error, _message, _kind, _name, entries)] = response.resources
    return {entry[0]: entry[1] for entry in entries}


async def test_every_record_on_the_topics_fits_the_served_document(
    sync_app: Starlette, kafka_bootstrap: str, topic_prefix: str
) -> None:
    service: ReportService = sync_app.state.service
    a = await service.execute(_submit("Jalan berlubang"), LAHAT)
    a = await service.execute(Postpone(a.id, "Butuh foto"), LAHAT, expected_version=1)
    a = await service.execute(Verify(a.id), LAHAT, expected_version=2)
    a = await service.execute(Dispose(a.id, "opd-16-dinkes"), LAHAT, expected_version=3)
    a = await service.execute(Decline(a.id, "Bukan wewenang kami"), PROVINCE, expected_version=4)
    a = await service.execute(Dispose(a.id, "opd-16-pubmtr"), LAHAT, expected_version=5)
    a = await service.execute(FollowUp(a.id, "Ditinjau"), PROVINCE, expected_version=6)
    a = await service.execute(Reply(a.id, "Masih bocor"), LAHAT, expected_version=7)
    a = await service.execute(Complete(a.id), PROVINCE, expected_version=8)
    await service.execute(Reopen(a.id, "Belum beres"), LAHAT, expected_version=9)
    b = await service.execute(_submit("Iklan"), LAHAT)
    await service.execute(Archive(b.id, ArchiveReason.SPAM), LAHAT, expected_version=1)
    # The national node refuses the third report's verification: a real dead letter.
    c = await service.execute(_submit("Ditolak node"), LAHAT)
    lapor = sinks(sync_app)["lapor"]
    await wait_until(lambda: lapor.latest().get(str(c.id)) == 1, what="the submission applied")
    lapor.fail_reports.add(str(c.id))
    await service.execute(Verify(c.id), LAHAT, expected_version=1)

    sync: SyncSupervisor = sync_app.state.sync
    topics = sync.bus.topics
    await wait_until(lambda: sync.workers["lapor"].stats.dead_lettered >= 1, what="a dead letter")

    await _wait_for_records(kafka_bootstrap, topics.state, topics.partitions, EVENTS)

    document = await _served_document(sync_app)
    channels = document["channels"]
    seen: dict[str, set[str | None]] = defaultdict(set)
    read: dict[str, list[ConsumerRecord[Any, Any]]] = {}
    for channel, expected in (
        ("reportEvents", EVENTS),
        ("reportState", EVENTS),
        ("deadLetters", 1),
    ):
        address = channels[channel]["address"]
        assert address.startswith(topic_prefix), "the served document names this hub's topics"
        partitions = channels[channel]["bindings"]["kafka"]["partitions"]
        read[channel] = await records_on(kafka_bootstrap, address, partitions)
        assert len(read[channel]) == expected, channel
        for record in read[channel]:
            name, problems = check_record(
                document, channel, record.key, record.value, list(record.headers)
            )
            assert problems == [], f"{channel} offset {record.offset}"
            seen[channel].add(name)
    every_verb = set(messages_of(document, "reportEvents"))
    assert len(every_verb) == len(Verb)
    assert seen["reportEvents"] == every_verb
    assert seen["reportState"] == every_verb
    assert seen["deadLetters"] == {"deadLetter"}

    # The dead letter is the refused event as it was on the events topic.
    [letter] = read["deadLetters"]
    headers = [(n, v) for n, v in letter.headers if not n.startswith("sp4n_dlq_")]
    name, problems = check_record(document, "reportEvents", letter.key, letter.value, headers)
    assert (name, problems) == ("reportVerified", [])
    assert dict(letter.headers)["sp4n_dlq_node"] == b"lapor"

    # Per-report order: one report's events on one partition, in version order.
    by_report: dict[bytes, list[tuple[int, int]]] = defaultdict(list)
    for record in read["reportEvents"]:
        by_report[record.key].append((record.partition, json.loads(record.value)["version"]))
    for key, places in by_report.items():
        assert len({partition for partition, _ in places}) == 1, key
        in_log_order = [version for _, version in places]
        assert in_log_order == sorted(in_log_order), key
    assert sorted(len(p) for p in by_report.values()) == [2, 2, 10]

    # The state topic is compacted on the broker, as the document says.
    configured = channels["reportState"]["bindings"]["kafka"]["topicConfiguration"]
    on_broker = await _topic_config(kafka_bootstrap, channels["reportState"]["address"])
    assert on_broker["cleanup.policy"].split(",") == configured["cleanup.policy"] == ["compact"]
    # The events topic holds a record no longer than the sinks' inbox remembers it.
    events = await _topic_config(kafka_bootstrap, channels["reportEvents"]["address"])
    assert {name: events[name] for name in EVENTS_TOPIC_CONFIG} == EVENTS_TOPIC_CONFIG

    # The check can fail on a real record: one carrying a field the contract lacks.
    record = read["reportEvents"][0]
    tampered = json.dumps({**json.loads(record.value), "title": "Jalan berlubang"}).encode()
    _, problems = check_record(document, "reportEvents", record.key, tampered, record.headers)
    assert problems != []
