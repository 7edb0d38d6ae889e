"""The canonical model against the facts of DOMAIN.md."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import jsonschema
import pytest

from schema.events import EVENT_DATA_SCHEMA, ExternalRef, ReportEvent
from schema.institutions import INSTITUTIONS, InstitutionLevel
from schema.lifecycle import STATE_LABELS, TRANSITIONS, VERBS, ReportState, Verb, can_apply
from schema.nodes import NODES
from schema.regions import REGENCIES, REGIONS
from schema.report import ActorRole, ComplaintSubKind, PrivacyFlags, ReportKind, validate_kind
from schema.sla import CURRENT_SLA_VERSION, SLA_RULES, SlaStage, rule_for
from schema.topics import TOPICS

# DOMAIN.md, "South Sumatra: the 17 kabupaten/kota", copied by hand.
OFFICIAL = {
    "16.01": ("1601", "Ogan Komering Ulu"),
    "16.02": ("1602", "Ogan Komering Ilir"),
    "16.03": ("1603", "Muara Enim"),
    "16.04": ("1604", "Lahat"),
    "16.05": ("1605", "Musi Rawas"),
    "16.06": ("1606", "Musi Banyuasin"),
    "16.07": ("1607", "Banyuasin"),
    "16.08": ("1609", "Ogan Komering Ulu Timur"),
    "16.09": ("1608", "Ogan Komering Ulu Selatan"),
    "16.10": ("1610", "Ogan Ilir"),
    "16.11": ("1611", "Empat Lawang"),
    "16.12": ("1612", "Penukal Abab Lematang Ilir"),
    "16.13": ("1613", "Musi Rawas Utara"),
    "16.71": ("1671", "Palembang"),
    "16.72": ("1673", "Pagar Alam"),
    "16.73": ("1674", "Lubuk Linggau"),
    "16.74": ("1672", "Prabumulih"),
}


def test_regencies_carry_both_official_codes() -> None:
    assert {r.code: (r.bps_code, r.name) for r in REGENCIES} == OFFICIAL
    differing = [r.code for r in REGENCIES if r.code.replace(".", "") != r.bps_code]
    assert differing == ["16.08", "16.09", "16.72", "16.73", "16.74"]
    assert len(REGIONS) == 18


def test_nineteen_nodes() -> None:
    codes = [n.code for n in NODES]
    assert len(codes) == len(set(codes)) == 19
    assert set(OFFICIAL) | {"16", "lapor"} == set(codes)


def test_every_regency_has_a_government_and_the_province_its_opds() -> None:
    governments = {
        i.region_code for i in INSTITUTIONS if i.level is InstitutionLevel.REGENCY_GOVERNMENT
    }
    assert governments == set(OFFICIAL)
    opds = [i for i in INSTITUTIONS if i.code.startswith("opd-16-")]
    assert len(opds) == 48  # the province's perangkat daerah and biro
    assert all(i.node_code == "16" for i in opds)
    # Every regency's own dinas and badan, handled by that regency's node.
    own = [i for i in INSTITUTIONS if i.level is InstitutionLevel.REGENCY_OPD]
    assert {i.region_code for i in own} == set(OFFICIAL)
    assert all(i.node_code == i.region_code for i in own)
    assert all(i.source for i in INSTITUTIONS)
    assert len({i.code for i in INSTITUTIONS}) == len(INSTITUTIONS)


def test_topic_tree_is_well_formed() -> None:
    ids = {t.id for t in TOPICS}
    assert all(t.parent_id is None or t.parent_id in ids for t in TOPICS)
    roots = {t.name for t in TOPICS if t.parent_id is None}
    assert {
        "Kesehatan",
        "Pendidikan",
        "Infrastruktur",
        "Administrasi Kependudukan",
        "Perizinan",
        "Lingkungan Hidup",
    } <= roots


S = ReportState
# DOMAIN.md, "Allowed moves", and issue 16's decline: DISPOSED -> VERIFIED, back to
# the institution that forwarded the report ("Bukan Wewenang").
ALLOWED = {
    (S.SUBMITTED, S.VERIFIED),
    (S.SUBMITTED, S.POSTPONED),
    (S.SUBMITTED, S.ARCHIVED),
    (S.POSTPONED, S.VERIFIED),
    (S.POSTPONED, S.ARCHIVED),
    (S.VERIFIED, S.DISPOSED),
    (S.VERIFIED, S.ARCHIVED),
    (S.DISPOSED, S.DISPOSED),
    (S.DISPOSED, S.IN_FOLLOW_UP),
    (S.DISPOSED, S.VERIFIED),
    (S.IN_FOLLOW_UP, S.IN_FOLLOW_UP),
    (S.IN_FOLLOW_UP, S.DISPOSED),
    (S.IN_FOLLOW_UP, S.COMPLETED),
    (S.COMPLETED, S.IN_FOLLOW_UP),
}


def test_transition_table_is_the_documented_one() -> None:
    assert {(a, b) for a, targets in TRANSITIONS.items() for b in targets} == ALLOWED
    assert STATE_LABELS[S.IN_FOLLOW_UP] == "Ditindaklanjuti"
    assert len(STATE_LABELS) == 7


def test_verbs_cover_exactly_the_allowed_moves() -> None:
    reachable = {(source, rule.target) for rule in VERBS.values() for source in rule.sources}
    assert reachable == ALLOWED
    assert can_apply(Verb.SUBMIT, None)
    assert not can_apply(Verb.VERIFY, None)
    assert can_apply(Verb.REOPEN, S.COMPLETED)
    assert not can_apply(Verb.FOLLOW_UP, S.COMPLETED)  # reopening is never silent
    assert not can_apply(Verb.ARCHIVE, S.DISPOSED)


def test_kinds_and_sub_kinds() -> None:
    assert validate_kind(ReportKind.COMPLAINT, ComplaintSubKind.SUPERVISORY) is None
    assert validate_kind(ReportKind.COMPLAINT, None) is not None
    assert validate_kind(ReportKind.ASPIRATION, ComplaintSubKind.SUPERVISORY) is not None


def test_privacy_flags_tighten_and_detect_loosening() -> None:
    anon = PrivacyFlags(anonymous=True)
    assert anon.tightened(PrivacyFlags(confidential=True)) == PrivacyFlags(True, True)
    assert anon.loosens(PrivacyFlags())
    assert not anon.loosens(PrivacyFlags(True, True))


@pytest.mark.parametrize(
    ("stage", "kind", "sub_kind", "days"),
    [
        (SlaStage.VERIFY, ReportKind.ASPIRATION, None, 3),
        (SlaStage.FIRST_FOLLOW_UP, ReportKind.COMPLAINT, ComplaintSubKind.SUPERVISORY, 5),
        (SlaStage.AUTO_CLOSE, ReportKind.INFORMATION_REQUEST, None, 10),
        (SlaStage.COMPLETION, ReportKind.COMPLAINT, ComplaintSubKind.NON_SUPERVISORY, 14),
        (SlaStage.COMPLETION, ReportKind.COMPLAINT, ComplaintSubKind.SUPERVISORY, 60),
        (SlaStage.COMPLETION, ReportKind.ASPIRATION, None, 5),
        (SlaStage.COMPLETION, ReportKind.INFORMATION_REQUEST, None, 5),
    ],
)
def test_sla_rules_are_versioned_data(
    stage: SlaStage, kind: ReportKind, sub_kind: ComplaintSubKind | None, days: int
) -> None:
    rule = rule_for(SLA_RULES, CURRENT_SLA_VERSION, stage, kind, sub_kind)
    assert rule is not None
    assert rule.working_days == days
    assert rule_for(SLA_RULES, "no-such-version", stage, kind, sub_kind) is None


def test_event_data_matches_its_json_schema() -> None:
    event = ReportEvent(
        event_id=str(uuid.uuid4()),
        report_id=str(uuid.uuid4()),
        version=3,
        verb=Verb.DISPOSE,
        previous_state=S.VERIFIED,
        state=S.DISPOSED,
        kind=ReportKind.COMPLAINT,
        region_code="16.71",
        origin_node="16.71",
        institution_codes=("pemda-16.71", "opd-16-dinkes"),
        involved_nodes=("16", "16.71", "lapor"),
        external_refs=(ExternalRef("lapor", "1916449"),),
        occurred_at=datetime.now(UTC),
        actor_node="16",
        actor_role=ActorRole.INSTITUTION_ADMIN,
    )
    validator = jsonschema.Draft202012Validator(
        EVENT_DATA_SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    validator.validate(event.data())
    assert event.type == "id.go.sp4n.report.disposed.v1"
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({**event.data(), "title": "Jalan rusak"})
