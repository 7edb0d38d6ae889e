"""Which verbs take a report from the hub's state to the state a node shows.

A node may move a report several steps between two pulls (verified and
disposed at once), so a pulled state becomes a short run of domain commands.
"""

from __future__ import annotations

import functools
from collections import deque

from schema.lifecycle import VERBS, ReportState, Verb, can_apply


@functools.cache  # a pure function of two enum members; an import asks it per report
def verbs_between(current: ReportState, target: ReportState) -> tuple[Verb, ...] | None:
    """The shortest run of verbs from ``current`` to ``target``.

    ``()`` when they are equal, None when the life cycle has no way there
    (e.g. out of ARCHIVED): the hub then sends the change to review, never
    forcing it. A decline is never a step on the way: it is what a node shows
    when the report goes back from DISPOSED to VERIFIED, and nothing else.
    """
    if current is target:
        return ()
    paths: dict[ReportState, tuple[Verb, ...]] = {current: ()}
    queue = deque([current])
    while queue:
        state = queue.popleft()
        for verb in Verb:  # enum order: a stable, documented choice among equals
            if verb is Verb.SUBMIT or not can_apply(verb, state):
                continue
            if verb is Verb.DECLINE and not (state is current and VERBS[verb].target is target):
                continue
            if verb is Verb.REPLY:  # an answer is content, not a status a node shows
                continue
            following = VERBS[verb].target
            if following in paths:
                continue
            paths[following] = (*paths[state], verb)
            if following is target:
                return paths[following]
            queue.append(following)
    return None
