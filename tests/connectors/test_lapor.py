"""SP4N-LAPOR! specifics: opaque tracking ids, LAPOR! labels (one deliberately
unmapped), hierarchical categories, anonim and rahasia, reports from every region."""

from __future__ import annotations

from connectors.sandbox.sandbox import Sandbox
from schema.lifecycle import ReportState
from schema.report import ComplaintSubKind, ReportKind
from tests.connectors.conftest import Connect, changes_of, event_for, latest, pull_all

NODE = "lapor"


async def test_tracking_ids_pass_through_untouched(sandbox: Sandbox, connect: Connect) -> None:
    async with connect(NODE) as connector:
        changes = changes_of(await pull_all(connector))
    ids = {c.external_id for c in changes}
    assert ids == set(sandbox.systems[NODE].reports)
    assert all(i.isdigit() and len(i) == 7 for i in ids)


async def test_a_label_the_mapping_does_not_know_is_reported_never_guessed(
    sandbox: Sandbox, connect: Connect
) -> None:
    report = sandbox.systems[NODE].by_seq()[0]
    sandbox.introduce_status(NODE, "Menunggu Tanggapan")
    await sandbox.set_status(NODE, report.id, "Menunggu Tanggapan")
    async with connect(NODE) as connector:
        pulled = latest(await pull_all(connector))[report.id]
    assert pulled.state is None
    assert pulled.raw_state == "Menunggu Tanggapan"
    assert pulled.agrees_with == frozenset()


async def test_categories_regions_kinds_and_privacy_come_through(
    sandbox: Sandbox, connect: Connect
) -> None:
    async with connect(NODE) as connector:
        changes = changes_of(await pull_all(connector))
    reports = sandbox.systems[NODE].reports
    for change in changes:
        report = reports[change.external_id]
        assert change.topic_id == report.topic_id  # the leaf of kategori -> induk
        assert change.region_code == report.region
        assert change.kind is ReportKind(report.kind)
        if change.kind is ReportKind.COMPLAINT:
            expected = (
                ComplaintSubKind.SUPERVISORY
                if report.supervisory
                else ComplaintSubKind.NON_SUPERVISORY
            )
            assert change.complaint_sub_kind is expected
        assert (change.privacy.anonymous, change.privacy.confidential) == (
            report.anonymous, report.confidential,
        )  # fmt: skip
        # Identity is never served for an anonymous report.
        assert (change.reporter is None) == (report.anonymous or report.reporter_name is None)
    assert len({c.region_code for c in changes}) > 3


async def test_a_write_back_of_archived_reads_back_archived(
    sandbox: Sandbox, connect: Connect
) -> None:
    report = sandbox.systems[NODE].by_seq()[1]
    async with connect(NODE) as connector:
        await connector.apply(event_for(NODE, report.id, ReportState.ARCHIVED))
        pulled = latest(await pull_all(connector))[report.id]
    assert (report.status, pulled.state) == ("Diarsipkan", ReportState.ARCHIVED)
