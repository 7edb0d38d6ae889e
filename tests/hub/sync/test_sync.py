"""Status sync through the real Kafka broker: routing, order, once, no personal data."""

from __future__ import annotations

import uuid

from aiokafka import AIOKafkaConsumer, TopicPartition
from starlette.applications import Starlette

from hub.domain.commands import (
    Actor,
    Archive,
    Complete,
    Dispose,
    FollowUp,
    Postpone,
    Reopen,
    Reporter,
    Submit,
    Verify,
)
from hub.domain.service import ReportService
from hub.settings import Settings
from hub.sync.supervisor import SyncSupervisor
from schema.report import (
    ActorRole,
    ArchiveReason,
    Channel,
    ComplaintSubKind,
    PrivacyFlags,
    ReportKind,
)
from tests.hub.sync.conftest import sinks, wait_until

LAHAT = Actor("16.04", ActorRole.INSTITUTION_ADMIN)
PROVINCE = Actor("16", ActorRole.INSTITUTION_ADMIN)
CANARY = "KANARI-5e1d"


def _submit(title: str = "Jalan rusak di Lahat", **kw: object) -> Submit:
    return Submit(
        kind=ReportKind.COMPLAINT,
        complaint_sub_kind=ComplaintSubKind.NON_SUPERVISORY,
        title=title,
        content="Isi laporan.",
        region_code="16.04",
        topic_id=301,
        channel=Channel.MOBILE_APP,
        **kw,  # type: ignore[arg-type]
    )


async def test_each_change_reaches_exactly_the_involved_nodes(sync_app: Starlette) -> None:
    service: ReportService = sync_app.state.service
    r = await service.execute(_submit(), LAHAT)
    r = await service.execute(Verify(r.id), LAHAT, expected_version=1)
    r = await service.execute(Dispose(r.id, "opd-16-pubmtr"), LAHAT, expected_version=2)
    r = await service.execute(FollowUp(r.id, "Ditinjau"), PROVINCE, expected_version=3)
    r = await service.execute(Complete(r.id), PROVINCE, expected_version=4)
    rid = str(r.id)
    nodes = sinks(sync_app)

    await wait_until(lambda: nodes["lapor"].latest().get(rid) == 5, what="the national node")
    await wait_until(lambda: nodes["16.04"].latest().get(rid) == 5, what="Lahat")
    await wait_until(lambda: nodes["16"].latest().get(rid) == 5, what="the province")
    # Lahat and the national node saw every version, in order; the province
    # only from the disposition to its agency on.
    assert [e.version for e in nodes["16.04"].received] == [1, 2, 3, 4, 5]
    assert [e.version for e in nodes["lapor"].received] == [1, 2, 3, 4, 5]
    assert [e.version for e in nodes["16"].received] == [3, 4, 5]
    assert [e.state.value for e in nodes["16.04"].received][-1] == "COMPLETED"
    uninvolved = [n for n, s in nodes.items() if n not in ("lapor", "16.04", "16") and s.received]
    assert uninvolved == []


async def test_no_report_content_or_identity_reaches_any_topic(
    sync_app: Starlette, sync_settings: Settings, kafka_bootstrap: str
) -> None:
    service: ReportService = sync_app.state.service
    reporter = Reporter(
        name=f"Rina {CANARY}",
        nik="1604015505900002",
        phone="0812" + "5" * 8,
        email=f"{CANARY.lower()}@example.id",
    )
    privacy = PrivacyFlags(anonymous=True, confidential=True)
    a = await service.execute(
        _submit(
            title=f"Pungli {CANARY}",
            reporter=reporter,
            privacy=privacy,
            location=f"Pasar {CANARY}",
            tags=(CANARY,),
        ),
        LAHAT,
    )
    a = await service.execute(Postpone(a.id, f"Butuh bukti {CANARY}"), LAHAT, expected_version=1)
    a = await service.execute(Verify(a.id, note=CANARY), LAHAT, expected_version=2)
    a = await service.execute(
        Dispose(a.id, "opd-16-inspektorat", CANARY), LAHAT, expected_version=3
    )
    a = await service.execute(FollowUp(a.id, f"Diperiksa {CANARY}"), PROVINCE, expected_version=4)
    a = await service.execute(Complete(a.id, CANARY), PROVINCE, expected_version=5)
    a = await service.execute(Reopen(a.id, f"Belum beres {CANARY}"), LAHAT, expected_version=6)
    b = await service.execute(_submit(title=f"Spam {CANARY}", reporter=reporter), LAHAT)
    await service.execute(Archive(b.id, ArchiveReason.SPAM, CANARY), LAHAT, expected_version=1)
    sync: SyncSupervisor = sync_app.state.sync
    await wait_until(lambda: sinks(sync_app)["lapor"].latest().get(str(b.id)) == 2)

    topics = sync.bus.topics
    seen_types: set[bytes] = set()
    total = 0
    for topic in (topics.events, topics.state, topics.dead_letters):
        consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            parts = [TopicPartition(topic, p) for p in range(sync_settings.kafka_partitions)]
            consumer.assign(parts)
            await consumer.seek_to_beginning(*parts)
            ends = await consumer.end_offsets(parts)
            while [tp for tp in parts if await consumer.position(tp) < ends[tp]]:
                for records in (await consumer.getmany(timeout_ms=1000)).values():
                    for record in records:
                        total += 1
                        blob = (record.key or b"") + (record.value or b"")
                        blob += b"".join(name.encode() + value for name, value in record.headers)
                        for needle in (
                            CANARY.encode(),
                            CANARY.lower().encode(),
                            b"1604015505900002",
                            b"Rina",
                        ):
                            assert needle not in blob, f"{needle!r} leaked into {topic}"
                        seen_types |= {v for n, v in record.headers if n == "ce_type"}
        finally:
            await consumer.stop()
    assert total == 2 * 9  # nine events, on the events and the state topic
    assert {t.decode().split(".")[4] for t in seen_types} == {
        "submitted",
        "postponed",
        "verified",
        "disposed",
        "followed-up",
        "completed",
        "reopened",
        "archived",
    }


async def test_a_refused_event_goes_to_the_dlq_without_blocking_others(
    sync_app: Starlette, kafka_bootstrap: str
) -> None:
    service: ReportService = sync_app.state.service
    nodes = sinks(sync_app)
    bad = await service.execute(_submit(title="Ditolak node"), LAHAT)
    nodes["lapor"].fail_reports.add(str(bad.id))
    await service.execute(Verify(bad.id), LAHAT, expected_version=1)
    good = await service.execute(_submit(title="Diterima node"), LAHAT)
    await wait_until(lambda: str(good.id) in nodes["lapor"].latest(), what="the good report")
    sync: SyncSupervisor = sync_app.state.sync
    worker = sync.workers["lapor"]
    await wait_until(lambda: worker.stats.dead_lettered >= 1, what="a dead letter")
    assert str(bad.id) not in nodes["lapor"].latest()
    # Lahat's sink is not affected by the national node's trouble.
    await wait_until(lambda: nodes["16.04"].latest().get(str(bad.id)) == 2)

    consumer = AIOKafkaConsumer(
        sync.bus.topics.dead_letters,
        bootstrap_servers=kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=f"check-{uuid.uuid4()}",
    )
    await consumer.start()
    try:
        record = await consumer.getone()
    finally:
        await consumer.stop()
    headers = dict(record.headers)
    assert headers["sp4n_dlq_node"] == b"lapor"
    assert b"refuses report" in headers["sp4n_dlq_error"]
    assert record.key == str(bad.id).encode()
