"""The change record's invariants and the hub-facing helpers around it."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from connectors.change import ExternalChange, ReporterIdentity
from connectors.transitions import verbs_between
from schema.lifecycle import VERBS, ReportState, Verb, can_apply
from schema.report import ReportKind

S = ReportState
NOW = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def change(**overrides: object) -> ExternalChange:
    fields: dict[str, object] = {
        "node": "16.71", "external_id": "1671-00001", "external_version": "3",
        "state": S.DISPOSED, "raw_state": "Disposisi", "agrees_with": frozenset({S.DISPOSED}),
        "kind": ReportKind.COMPLAINT, "title": "Jalan berlubang", "content": "Mohon diperbaiki",
        "region_code": "16.71", "submitted_at": NOW, "occurred_at": NOW,
    }  # fmt: skip
    return ExternalChange(**(fields | overrides))  # type: ignore[arg-type]


def test_a_sound_record_builds_and_has_a_stable_idempotency_key() -> None:
    first, again = change(), change()
    assert first.idempotency_key == again.idempotency_key
    assert first.idempotency_key != change(external_version="4").idempotency_key
    # The hub's idempotency keys: 8 to 128 printable ASCII characters, no spaces.
    assert re.fullmatch(r"[\x21-\x7e]{8,128}", first.idempotency_key)


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"title": " "}, "title is empty"),
        ({"occurred_at": datetime(2025, 3, 1, 9, 30)}, "occurred_at has no UTC offset"),
        ({"region_code": "31.71"}, "region_code '31.71' is not a South Sumatra region"),
        ({"state": S.COMPLETED}, "state COMPLETED does not agree with 'Disposisi'"),
        ({"latitude": -2.99}, "latitude and longitude go together"),
    ],
)
def test_a_record_that_breaks_an_invariant_is_a_connector_bug(
    overrides: dict[str, object], problem: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        change(**overrides)


def test_reporter_identity_never_shows_in_a_repr() -> None:
    reporter = ReporterIdentity(name="Siti Aminah", phone="081234567890")
    assert "Siti" not in repr(reporter)
    assert "0812" not in repr(change(reporter=reporter))


@pytest.mark.parametrize(
    ("current", "target", "verbs"),
    [
        (S.DISPOSED, S.DISPOSED, ()),
        (S.SUBMITTED, S.DISPOSED, (Verb.VERIFY, Verb.DISPOSE)),
        (S.DISPOSED, S.COMPLETED, (Verb.FOLLOW_UP, Verb.COMPLETE)),
        (S.SUBMITTED, S.COMPLETED, (Verb.VERIFY, Verb.DISPOSE, Verb.FOLLOW_UP, Verb.COMPLETE)),
        (S.COMPLETED, S.IN_FOLLOW_UP, (Verb.REOPEN,)),
        (S.POSTPONED, S.ARCHIVED, (Verb.ARCHIVE,)),
        (S.ARCHIVED, S.SUBMITTED, None),
        (S.COMPLETED, S.SUBMITTED, None),
        (S.DISPOSED, S.ARCHIVED, None),
        # A node sending a disposed report back declines it; a decline is never a step
        # the hub guesses on the way somewhere else.
        (S.DISPOSED, S.VERIFIED, (Verb.DECLINE,)),
        (S.IN_FOLLOW_UP, S.VERIFIED, None),
        (S.COMPLETED, S.VERIFIED, None),
    ],
)
def test_verbs_between_states_follow_the_life_cycle(
    current: ReportState, target: ReportState, verbs: tuple[Verb, ...] | None
) -> None:
    assert verbs_between(current, target) == verbs


def test_every_path_is_a_run_of_allowed_verbs() -> None:
    for current in ReportState:
        for target in ReportState:
            state = current
            for verb in verbs_between(current, target) or ():
                assert can_apply(verb, state)
                state = VERBS[verb].target
            assert state is target or verbs_between(current, target) is None
