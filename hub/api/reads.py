"""What a request's resolvers read of reports, and which committed changes can alter
it: what a cached answer depends on (``hub.api.cache``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from schema.events import ReportEvent
from schema.lifecycle import Verb

if TYPE_CHECKING:
    from hub.api.pagination import FilterArgs


@dataclass(frozen=True, slots=True)
class PageRead:
    """One page of ``reports``: its filter as the caller sees it, and the rows fetched
    (the page and the one after it, which decides ``hasNextPage``)."""

    filter: FilterArgs
    ids: frozenset[uuid.UUID]


@dataclass(slots=True)
class Reads:
    """What one request's resolvers read, so the cache knows what its answer depends on."""

    reports: set[uuid.UUID] = field(default_factory=set)
    pages: list[PageRead] = field(default_factory=list)

    def report(self, report_id: uuid.UUID) -> None:
        self.reports.add(report_id)

    def page(self, args: FilterArgs, ids: Iterable[uuid.UUID]) -> None:
        self.pages.append(PageRead(args, frozenset(ids)))

    @property
    def on_reports(self) -> bool:
        return bool(self.reports or self.pages)


def page_affected(page: PageRead, event: ReportEvent) -> bool:
    """Whether a committed change can alter a page (its rows, their fields, whether
    there is a next page, or the filter's total)."""
    if uuid.UUID(event.report_id) in page.ids:
        return True
    f = page.filter
    # Region and kind never change; the current institution is always in the chain.
    if f.region is not None and f.region != event.region_code:
        return False
    if f.kind is not None and f.kind != event.kind.value:
        return False
    if f.institution is not None and f.institution not in event.institution_codes:
        return False
    if event.verb is Verb.SUBMIT:
        return True  # a new report the filter may take in
    # The report was not among the rows: only a change of whether it matches matters.
    previous = event.previous_state.value if event.previous_state else None
    if f.state is not None and (previous == f.state) != (event.state.value == f.state):
        return True
    if f.institution is not None and event.verb is Verb.DISPOSE:
        return True
    # Who may see it: privacy can tighten when it is verified; a disposition involves
    # another node.
    return not f.viewer.sees_everything and event.verb in (Verb.VERIFY, Verb.DISPOSE)
