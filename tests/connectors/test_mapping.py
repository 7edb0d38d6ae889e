"""Status and topic mappings: both directions, coarse vocabularies, unknown labels."""

from __future__ import annotations

from connectors.config import load_node_table
from connectors.mapping import IDENTITY_TOPICS, StatusMapping, TopicMapping
from schema.lifecycle import ReportState
from tests.fixtures.sandbox import default_table_env

S = ReportState


def vocabulary(name: str) -> StatusMapping:
    return next(c.status for c in load_node_table(default_table_env()) if c.status.name == name)


def test_a_coarse_vocabulary_agrees_with_every_state_it_writes_the_same_way() -> None:
    crm = vocabulary("crm")
    assert crm.to_external(S.ARCHIVED) == crm.to_external(S.COMPLETED) == "Selesai"
    assert crm.to_canonical("Selesai") is S.COMPLETED
    assert crm.agreeing("Selesai") == {S.COMPLETED, S.ARCHIVED}
    assert crm.agreeing("Menunggu") == {S.SUBMITTED, S.POSTPONED}
    assert crm.agreeing("Proses") == {S.IN_FOLLOW_UP}


def test_an_exact_vocabulary_round_trips_every_state() -> None:
    for name in ("kabupaten-graphql", "lapor", "simpel", "canonical"):
        mapping = vocabulary(name)
        for state in S:
            assert mapping.to_canonical(mapping.to_external(state)) is state, (name, state)


def test_an_unknown_label_maps_to_nothing_and_agrees_with_nothing() -> None:
    lapor = vocabulary("lapor")
    assert lapor.to_canonical("Menunggu Tanggapan") is None
    assert lapor.agreeing("Menunggu Tanggapan") == frozenset()
    assert lapor.to_canonical(" Selesai ") is S.COMPLETED  # surrounding blanks are not news


def test_a_decline_label_reads_as_the_state_a_declined_report_goes_back_to() -> None:
    # LAPOR!'s "Bukan Wewenang" and FixMyStreet's not_councils_responsibility: the
    # institution is not competent, the report goes back to VERIFIED (DECLINE).
    assert vocabulary("lapor").to_canonical("Bukan Wewenang") is S.VERIFIED
    assert vocabulary("open311").to_canonical("not_councils_responsibility") is S.VERIFIED
    # The hub writes VERIFIED back as the node's plain label for it.
    assert vocabulary("lapor").to_external(S.VERIFIED) == "Terverifikasi"


def test_a_label_that_reads_as_one_state_also_agrees_with_it() -> None:
    mapping = StatusMapping.from_table(
        "alias",
        {
            "inbound": {"Baru": "SUBMITTED", "Masuk": "SUBMITTED", "Tutup": "COMPLETED"},
            "outbound": {
                s.value: ("Tutup" if s in (S.COMPLETED, S.ARCHIVED) else "Baru") for s in S
            },
        },
    )
    assert mapping.agreeing("Masuk") == {S.SUBMITTED}  # read-only alias of a state


def test_topics_map_codes_both_ways_falling_back_to_the_parent() -> None:
    topics = TopicMapping.from_table("t", {"JALAN": 301, "INFRA": 3})
    assert topics.to_topic("JALAN") == 301
    assert topics.to_topic("LAINNYA") is None
    assert topics.to_code(301, 3) == "JALAN"
    assert topics.to_code(302, 3) == "INFRA"  # no code for Jembatan: file under the parent
    assert topics.to_code(101, 1) is None
    assert IDENTITY_TOPICS.to_topic("301") == 301
    assert IDENTITY_TOPICS.to_topic("999") is None
    assert IDENTITY_TOPICS.to_code(301, 3) == "301"
