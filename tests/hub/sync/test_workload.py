"""The test workload and the sync benchmark choose their moves through the domain core."""

from __future__ import annotations

import random
import uuid
from collections import Counter

import pytest

from hub.domain.commands import TRANSITION_COMMANDS, Actor
from hub.domain.core import Current, allowed_verbs, decide
from schema.lifecycle import ReportState, Verb
from schema.report import ActorRole, PrivacyFlags
from tests.hub.sync.workload import command_from, sample_command

ADMIN = Actor("16", ActorRole.INSTITUTION_ADMIN, everywhere=True)


def _report(state: ReportState) -> Current:
    return Current(
        uuid.uuid4(),
        state,
        3,
        "opd-16-pubmtr",
        PrivacyFlags(),
        ("pemda-16.71", "opd-16-pubmtr"),
        ("16", "16.71", "lapor"),
    )


@pytest.mark.parametrize("state", list(ReportState))
def test_every_move_the_workload_draws_is_one_the_core_accepts(state: ReportState) -> None:
    rng = random.Random(3)
    current = _report(state)
    drawn: Counter[Verb] = Counter()
    for _ in range(200):
        command = command_from(rng, state, current.id)
        if command is None:
            break
        decide(current, command, ADMIN, 3, target_node="16")  # raises for a forbidden move
        drawn[command.verb] += 1
    # Every move the life cycle allows is drawn, and nothing is left once none is.
    assert set(drawn) == set(allowed_verbs(state))


def test_every_transition_verb_can_be_sampled() -> None:
    """A new verb joins the workload by its command alone (or fails here, naming it)."""
    rng = random.Random(5)
    assert set(TRANSITION_COMMANDS) == {v for v in Verb if v is not Verb.SUBMIT}
    for verb in TRANSITION_COMMANDS:
        assert sample_command(rng, verb, uuid.uuid4()).verb is verb
