"""A request's fingerprint is stored with its idempotency key: a retry must hash the
same after an upgrade, or the hub would call a genuine retry a different request."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date

from hub.domain.commands import Dispose, Reporter, Submit, Verify, fingerprint
from schema.report import Channel, ComplaintSubKind, PrivacyFlags, ReportKind

SUBMIT = Submit(
    kind=ReportKind.COMPLAINT,
    title="Jalan rusak",
    content="Isi",
    region_code="16.71",
    topic_id=301,
    channel=Channel.WEB,
    complaint_sub_kind=ComplaintSubKind.SUPERVISORY,
    incident_date=date(2026, 1, 2),
    latitude=-2.9,
    longitude=104.7,
    tags=("jalan", "banjir"),
    privacy=PrivacyFlags(True, True),
    reporter=Reporter(name="Siti", nik="1671000000000001", email="s@example.id"),
    external_node="palembang",
    external_id="X-1",
)


def test_fingerprints_stored_by_the_previous_release_still_match() -> None:
    # Hashes the hub computed (through dataclasses.asdict) before the fingerprint
    # stopped deep-copying the command: keys stored then must still recognise retries.
    assert fingerprint(SUBMIT, None) == (
        "5d9fb1476301ccdb355fcf23396bf6d8b532dc51cc7cae8f45ab7203ca8c70fb"
    )
    verify = Verify(uuid.UUID(int=5), privacy=PrivacyFlags(False, True))
    assert fingerprint(verify, 2) == (
        "d55d1105c4805e994890586056ab8ffbb7cb27bb692dd3db5aae93dcb60abfe8"
    )


def test_a_different_request_has_a_different_fingerprint() -> None:
    report = uuid.UUID(int=7)
    first = fingerprint(Dispose(report, "16.71.pemkot", "ke pemkot"), 3)
    assert first == fingerprint(Dispose(report, "16.71.pemkot", "ke pemkot"), 3)
    assert first != fingerprint(Dispose(report, "16.71.pemkot", "ke pemkot"), 4)
    assert first != fingerprint(Dispose(report, "16.71.pemkot", "lain"), 3)
    other = Reporter(name="Siti", nik="1671000000000002", email="s@example.id")

    assert fingerprint(SUBMIT, None) != fingerprint(replace(SUBMIT, reporter=other), None)
