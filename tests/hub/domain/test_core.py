"""The domain core decides without a database: every rule a writer meets, in order."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest

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
    Reporter,
    Submit,
    Transition,
    Verify,
)
from hub.domain.core import Current, Known, Link, allowed_verbs, decide, submit
from hub.errors import BadInput, InvalidTransition, NotFound, VersionConflict
from schema.lifecycle import TRANSITIONS, VERBS, ReportState, Verb
from schema.report import ActorRole, ArchiveReason, Channel, PrivacyFlags, ReportKind
from schema.sla import CURRENT_SLA_VERSION

RID = uuid.uuid4()
ADMIN = Actor("16", ActorRole.INSTITUTION_ADMIN, everywhere=True)
PALEMBANG = Actor("16.71", ActorRole.NODE_SYSTEM)
LAHAT = Actor("16.04", ActorRole.NODE_SYSTEM)


def report(
    state: ReportState, version: int = 3, chain: tuple[str, ...] = ("pemda-16.71",)
) -> Current:
    return Current(RID, state, version, chain[-1], PrivacyFlags(), chain, ("16", "16.71", "lapor"))


def command(verb: Verb) -> Transition:
    commands: dict[Verb, Transition] = {
        Verb.VERIFY: Verify(RID),
        Verb.POSTPONE: Postpone(RID, "menunggu data"),
        Verb.DISPOSE: Dispose(RID, "opd-16-pubmtr", "jalan provinsi"),
        Verb.FOLLOW_UP: FollowUp(RID, "sedang ditinjau"),
        Verb.COMPLETE: Complete(RID),
        Verb.REOPEN: Reopen(RID, "belum diperbaiki"),
        Verb.ARCHIVE: Archive(RID, ArchiveReason.DUPLICATE),
        Verb.DECLINE: Decline(RID, "bukan wewenang kami"),
        Verb.REPLY: Reply(RID, "masih rusak"),
    }
    return commands[verb]


@pytest.mark.parametrize("state", list(ReportState))
@pytest.mark.parametrize("verb", [v for v in Verb if v is not Verb.SUBMIT])
def test_every_verb_from_every_state_follows_the_life_cycle_table(
    state: ReportState, verb: Verb
) -> None:
    allowed = state in VERBS[verb].sources and VERBS[verb].target in TRANSITIONS[state]
    forwarded = report(state, chain=("pemda-16.71", "opd-16-pubmtr"))
    if not allowed:
        with pytest.raises(InvalidTransition, match=f"moves allowed from {state.value}"):
            decide(forwarded, command(verb), ADMIN, 3, target_node="16")
        assert verb not in allowed_verbs(state)
        return
    change = decide(forwarded, command(verb), ADMIN, 3, target_node="16")
    assert (change.previous, change.state, change.version) == (state, VERBS[verb].target, 4)
    assert verb in allowed_verbs(state)


def test_checks_run_in_the_order_a_client_meets_them() -> None:
    archived = report(ReportState.ARCHIVED, version=5)
    with pytest.raises(NotFound):
        decide(None, Verify(RID), ADMIN, 1)
    with pytest.raises(NotFound):  # not involved: as if it did not exist
        decide(archived, Verify(RID), LAHAT, 1)
    with pytest.raises(VersionConflict, match="at version 5, not the expected 4"):
        decide(archived, Verify(RID), PALEMBANG, 4)
    with pytest.raises(InvalidTransition, match="ARCHIVED"):
        decide(archived, Verify(RID), PALEMBANG, 5)


def test_a_disposition_appends_a_link_and_moves_the_report() -> None:
    current = report(ReportState.DISPOSED, chain=("pemda-16.71", "opd-16-pubmtr"))
    change = decide(
        current, Dispose(RID, "opd-16-dinkes", "salah alamat"), ADMIN, 3, target_node="16"
    )
    assert change.disposition is not None
    assert (change.disposition.seq, change.disposition.from_institution) == (2, "opd-16-pubmtr")
    assert change.institution_code == "opd-16-dinkes"
    assert change.institutions == ("pemda-16.71", "opd-16-pubmtr", "opd-16-dinkes")
    assert current.after(change).chain == change.institutions
    with pytest.raises(BadInput, match="not known to the hub"):
        decide(current, Dispose(RID, "nowhere"), ADMIN, 3, target_node=None)


def test_a_decline_sends_the_report_back_to_the_institution_that_forwarded_it() -> None:
    current = report(ReportState.DISPOSED, chain=("pemda-16.71", "opd-16-pubmtr"))
    change = decide(current, Decline(RID, "bukan wewenang kami"), ADMIN, 3)
    assert (change.state, change.institution_code, change.note) == (
        ReportState.VERIFIED, "pemda-16.71", "bukan wewenang kami",
    )  # fmt: skip
    assert change.disposition == Link(
        2, "opd-16-pubmtr", "pemda-16.71", "bukan wewenang kami", declined=True
    )
    back = current.after(change)
    assert back.chain == ("pemda-16.71", "opd-16-pubmtr", "pemda-16.71")
    # It must be forwarded again: declining once more is not a move from VERIFIED.
    with pytest.raises(InvalidTransition):
        decide(back, Decline(RID, "lagi"), ADMIN, 4)
    again = decide(back, Dispose(RID, "opd-16-dinkes"), ADMIN, 4, target_node="16")
    assert again.disposition is not None
    assert (again.state, again.disposition.from_institution) == (
        ReportState.DISPOSED, "pemda-16.71",
    )  # fmt: skip
    never_forwarded = report(ReportState.DISPOSED, chain=("pemda-16.71",))
    with pytest.raises(BadInput, match="never forwarded"):
        decide(never_forwarded, Decline(RID, "x"), ADMIN, 3)


def test_a_disposition_involves_the_node_of_the_institution_it_addresses() -> None:
    current = report(ReportState.VERIFIED)
    moved = decide(current, Dispose(RID, "pemda-16.04", "lintas wilayah"), ADMIN, 3,
                   target_node="16.04")  # fmt: skip
    assert moved.nodes == ("16", "16.04", "16.71", "lapor")
    assert current.after(moved).nodes == moved.nodes
    # Lahat may now act on it; it could not before.
    with pytest.raises(NotFound):
        decide(current, Verify(RID), LAHAT, 3)
    back = decide(current.after(moved), Dispose(RID, "pemda-16.71"), LAHAT, 4, target_node="16.71")
    # Once involved, a node stays involved; other verbs keep the nodes as they are.
    assert back.nodes == moved.nodes
    assert decide(current, Archive(RID, ArchiveReason.SPAM, "x"), ADMIN, 3).nodes == current.nodes


def test_privacy_only_tightens_and_archive_keeps_its_reason() -> None:
    current = report(ReportState.SUBMITTED)
    tightened = decide(current, Verify(RID, privacy=PrivacyFlags(confidential=True)), ADMIN, 3)
    assert tightened.privacy.confidential
    loosen = Current(RID, ReportState.SUBMITTED, 3, "pemda-16.71", PrivacyFlags(True, True),
                     ("pemda-16.71",), ("lapor",))  # fmt: skip
    with pytest.raises(BadInput, match="only be tightened"):
        decide(loosen, Verify(RID, privacy=PrivacyFlags()), ADMIN, 3)
    archived = decide(current, Archive(RID, ArchiveReason.DUPLICATE, "ganda"), ADMIN, 3)
    assert (archived.archive_reason, archived.note) == (ArchiveReason.DUPLICATE, "ganda")
    followed = decide(report(ReportState.DISPOSED), FollowUp(RID, "dicek"), ADMIN, 3)
    assert (followed.follow_up, followed.archive_reason) == ("dicek", None)


AT = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
ASPIRATION = Submit(
    kind=ReportKind.ASPIRATION, title=" Taman kota ", content="Perlu taman.",
    region_code="16.71", topic_id=601, channel=Channel.WEB,
    privacy=PrivacyFlags(anonymous=True), reporter=Reporter(name="Siti"),
    external_node="16.71", external_id="PLG-1",
)  # fmt: skip


def test_a_submission_starts_the_life_cycle_at_version_one() -> None:
    made = submit(ASPIRATION, PALEMBANG, RID, AT, Known.everything("16.71"))
    r = made.report
    assert (r.id, r.state, r.version, r.origin_node, r.title) == (
        RID, ReportState.SUBMITTED, 1, "16.71", "Taman kota"
    )  # fmt: skip
    assert (r.institution_code, r.sla_rule_version) == ("pemda-16.71", CURRENT_SLA_VERSION)
    assert (r.anonymous, r.confidential, r.submitted_at, r.updated_at) == (True, False, AT, AT)
    assert made.entry == made.entry.__class__(
        RID, 1, "SUBMIT", None, "SUBMITTED", "16.71", "NODE_SYSTEM", None, AT
    )
    assert made.institutions == ("pemda-16.71",)
    assert [(x.node_code, x.external_id) for x in made.external_refs] == [("16.71", "PLG-1")]
    assert made.reporter == Reporter(name="Siti")
    # What a transition then decides on: the core's view of the new report.
    assert made.current == Current(
        RID, ReportState.SUBMITTED, 1, "pemda-16.71", PrivacyFlags(anonymous=True),
        ("pemda-16.71",), ("16.71", "lapor"),
    )  # fmt: skip
    province = submit(
        replace(ASPIRATION, region_code="16"), PALEMBANG, RID, AT, Known.everything("16")
    )
    assert province.report.institution_code == "pemprov-16"
    named = replace(ASPIRATION, institution_code="opd-16-dinkes")
    assert submit(named, PALEMBANG, RID, AT, Known.everything("16")).institutions == (
        "opd-16-dinkes",
    )


def test_a_submission_involves_its_origin_its_region_its_institution_and_the_nation() -> None:
    # Palembang's system files a report about Lahat, addressed to a provincial agency.
    across = replace(ASPIRATION, region_code="16.04", institution_code="opd-16-dinkes")
    made = submit(across, PALEMBANG, RID, AT, Known.everything("16"))
    assert made.report.nodes == ["16", "16.04", "16.71", "lapor"]
    assert made.current.nodes == ("16", "16.04", "16.71", "lapor")


@pytest.mark.parametrize(
    ("unknown", "message"),
    [
        ("region", "regionCode '16.71' is not known"),
        ("topic", "topicId 601 is not known"),
        ("institution_node", "institutionCode 'pemda-16.71' is not known"),
        ("node", "actor node '16.71' is not known"),
        ("external_node", "externalRef.node '16.71' is not a federation node"),
    ],
)
def test_a_submission_names_the_first_reference_the_hub_does_not_know(
    unknown: str, message: str
) -> None:
    gone = {unknown: None} if unknown == "institution_node" else {unknown: False}
    with pytest.raises(BadInput, match=message):
        submit(ASPIRATION, PALEMBANG, RID, AT, replace(Known.everything("16.71"), **gone))
    nothing = Known(False, False, None, False, False, external_ref_taken=True)
    with pytest.raises(BadInput, match="regionCode"):  # the first one, as a client reads
        submit(ASPIRATION, PALEMBANG, RID, AT, nothing)


def test_an_external_id_names_one_report() -> None:
    taken = replace(Known.everything("16.71"), external_ref_taken=True)
    with pytest.raises(BadInput, match=r"externalRef \(16.71, PLG-1\) already names a report"):
        submit(ASPIRATION, PALEMBANG, RID, AT, taken)
    # Without an external id nothing can be taken.
    assert submit(replace(ASPIRATION, external_node=None, external_id=None), PALEMBANG, RID, AT,
                  taken).external_refs == ()  # fmt: skip
