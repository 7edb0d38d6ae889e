"""Open311 specifics: open/closed plus the canonical state in status_notes,
date windows of at most 90 days, service codes as topics."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from connectors.change import ReportContent
from connectors.open311 import status_note
from connectors.sandbox.sandbox import Sandbox
from schema.lifecycle import ReportState
from schema.report import PrivacyFlags, ReportKind
from tests.connectors.conftest import Connect, Directory, changes_of, event_for, latest, pull_all

NODE = "16.71"


async def test_write_back_puts_the_state_in_status_notes_and_the_agency_responsible(
    sandbox: Sandbox, connect: Connect
) -> None:
    report = sandbox.systems[NODE].by_seq()[0]
    async with connect(NODE) as connector:
        await connector.apply(event_for(NODE, report.id, ReportState.DISPOSED))
        pulled = latest(await pull_all(connector))[report.id]
    assert (report.status, report.note) == ("open", "[SP4N:DISPOSED] Terdisposisi")
    assert report.note == status_note(ReportState.DISPOSED)
    assert (pulled.state, pulled.raw_state) == (ReportState.DISPOSED, "open")
    assert pulled.institution_code == "opd-16-dinkes"  # the last in the disposition chain
    assert pulled.note == report.note


async def test_a_marker_the_status_no_longer_agrees_with_loses_to_the_status(
    sandbox: Sandbox, connect: Connect
) -> None:
    system = sandbox.systems[NODE]
    report = system.by_seq()[0]
    async with connect(NODE) as connector:
        await connector.apply(event_for(NODE, report.id, ReportState.DISPOSED))
        # The city's staff close it in their own tool; the old note stays.
        system.set_status(report, "closed", report.note)
        pulled = latest(await pull_all(connector))[report.id]
    assert (pulled.state, pulled.raw_state) == (ReportState.COMPLETED, "closed")
    assert pulled.agrees_with == {ReportState.COMPLETED, ReportState.ARCHIVED}


async def test_pulls_walk_windows_of_at_most_90_days_that_the_node_accepts(
    sandbox: Sandbox, connect: Connect
) -> None:
    since = "2023-01-01T00:00:00+07:00"
    async with connect(NODE) as connector:
        pages = await pull_all(connector, since)
    marks = [datetime.fromisoformat(since), *(datetime.fromisoformat(p.watermark) for p in pages)]
    assert all(b - a <= timedelta(days=90) for a, b in itertools.pairwise(marks))
    assert marks == sorted(marks)
    assert set(latest(pages)) == set(sandbox.systems[NODE].reports)


async def test_the_spec_date_filter_is_available_for_nodes_without_the_extension(
    sandbox: Sandbox, connect: Connect
) -> None:
    async with connect(NODE, date_params="requested") as connector:
        pages = await pull_all(connector)
    assert set(latest(pages)) == set(sandbox.systems[NODE].reports)


async def test_service_codes_map_to_topics_and_titles_read_naturally(
    sandbox: Sandbox, connect: Connect
) -> None:
    async with connect(NODE) as connector:
        changes = changes_of(await pull_all(connector))
    reports = sandbox.systems[NODE].reports
    for change in changes:
        report = reports[change.external_id]
        assert change.topic_id == report.topic_id
        assert change.raw_topic == report.category
        assert change.title.endswith(f" di {report.location}")
        assert (change.latitude, change.longitude) == (report.lat, report.lon)
        assert change.kind is ReportKind.COMPLAINT  # Open311 has no kinds: the node's default


async def test_a_topic_without_a_service_is_filed_under_the_catch_all(
    sandbox: Sandbox, connect: Connect
) -> None:
    report_id = "5d1c2c4e-7f0a-4a57-9a8e-2b1d3c4e5f60"
    content = ReportContent(
        report_id, "KTP elektronik belum jadi", "Sudah tiga bulan belum dicetak.",
        ReportKind.COMPLAINT, "16.71", 401, "pemda-16.71", PrivacyFlags(),
    )  # fmt: skip
    directory = Directory({report_id: content})
    async with connect(NODE, directory=directory) as connector:
        await connector.apply(event_for(None, None, ReportState.VERIFIED, report_id=report_id))
        external_id = directory.links[0][2]
        pulled = latest(await pull_all(connector))[external_id]
    assert (pulled.topic_id, pulled.raw_topic) == (None, "LAINNYA")
    assert pulled.content.startswith("KTP elektronik belum jadi\n\nSudah tiga bulan")
    assert pulled.state is ReportState.VERIFIED
