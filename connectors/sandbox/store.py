"""One sandbox node system in memory: its reports, its change counter, its writes.

Each protocol app renders these reports in its own format; the store knows
only the node's own vocabulary. Writes are idempotent on the caller's event
id, creations on the hub's report id, and a request's ``Idempotency-Key`` is
answered with its first answer, as the connectors expect of a node. A system can
be told to honour none of these (``honour_keys``), as some legacy systems do not:
then every call takes effect again, and only the hub's own reconciling keeps a
write-back from being doubled.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from connectors.sandbox.vocabulary import NodeVocabulary


@dataclass(slots=True)
class SandboxAttachment:
    """A file attached to a sandbox report (only its description; there are no bytes)."""

    id: str
    name: str
    media_type: str
    size: int
    url: str


@dataclass(slots=True)
class SandboxUpdate:
    """One write the hub made to a report: a state entry, with its follow-up note."""

    event_id: str
    status: str
    note: str
    institution: str | None
    at: datetime


@dataclass(slots=True)
class SandboxReply:
    """The reporter's answer to a follow-up, given in the node's own app."""

    id: str
    content: str
    at: datetime


@dataclass(slots=True)
class SandboxReport:
    """A report as the node system holds it (its own label, its own category)."""

    id: str
    title: str
    content: str
    kind: str
    topic_id: int
    category: str
    status: str
    step: int
    note: str
    institution: str
    region: str
    channel: str
    created_at: datetime
    updated_at: datetime
    version: int = 1
    seq: int = 0
    supervisory: bool | None = None
    anonymous: bool = False
    confidential: bool = False
    location: str | None = None
    lat: float | None = None
    lon: float | None = None
    incident_date: date | None = None
    tags: list[str] = field(default_factory=list)
    reporter_name: str | None = None
    attachments: list[SandboxAttachment] = field(default_factory=list)
    hub_id: str | None = None
    archive_reason: str | None = None
    updates: list[SandboxUpdate] = field(default_factory=list)
    """The hub's writes, oldest first: two with one event id are a doubled write-back."""
    replies: list[SandboxReply] = field(default_factory=list)
    rating: tuple[int, str | None] | None = None
    """The reporter's score (1 to 5) and comment, once the report is done."""


class UnknownLabel(ValueError):
    """A write named a status this system does not have."""


class NodeSystem:
    """A node's complaint system."""

    def __init__(
        self,
        code: str,
        vocabulary: NodeVocabulary,
        clock: Callable[[], datetime],
        new_id: Callable[[], str],
    ) -> None:
        self.code = code
        self.vocabulary = vocabulary
        self.reports: dict[str, SandboxReport] = {}
        self._clock = clock
        self._new_id = new_id
        self._seq = itertools.count(1)
        self._last = datetime.min.replace(tzinfo=UTC)
        self._applied: set[str] = set()
        self._created: dict[str, str] = {}
        self._answers: dict[str, tuple[int, bytes]] = {}
        self.honour_keys = True
        """False: event ids, hub report ids and Idempotency-Keys are not honoured."""
        self.writes = 0
        """Writes that changed something (a repeated event id does not count)."""
        self.interleaved: dict[str, Callable[[SandboxReport], None]] = {}
        """Staff actions slipped in between the hub's calls, each once, by moment:
        ``created`` right after a creation, ``writing`` just before a write lands."""
        # The orders pages are cut from, sorted once per change rather than once per
        # request: a first pull of a large node asks for hundreds of pages.
        self._by_update: list[SandboxReport] | None = None
        self._by_seq: list[SandboxReport] | None = None

    def stamp(self) -> datetime:
        """Now, strictly after every earlier stamp, so update times order changes."""
        now = max(self._clock(), self._last + timedelta(microseconds=1))
        self._last = now
        return now

    def load(self, reports: list[SandboxReport]) -> None:
        """Takes seed reports, numbering their changes in update order."""
        for report in sorted(reports, key=lambda r: (r.updated_at, r.id)):
            report.seq = next(self._seq)
            self._last = max(self._last, report.updated_at)
            self.reports[report.id] = report
        self.changed()

    def by_update(self) -> list[SandboxReport]:
        """Every report, oldest update first (do not modify the list)."""
        if self._by_update is None:
            self._by_update = sorted(self.reports.values(), key=lambda r: (r.updated_at, r.id))
        return self._by_update

    def by_seq(self) -> list[SandboxReport]:
        """Every report in change order (do not modify the list)."""
        if self._by_seq is None:
            self._by_seq = sorted(self.reports.values(), key=lambda r: r.seq)
        return self._by_seq

    def after_seq(self, seq: int, limit: int) -> list[SandboxReport]:
        """Up to ``limit`` reports changed after change number ``seq``, in change order."""
        ordered = self.by_seq()
        start = bisect.bisect_right(ordered, seq, key=lambda r: r.seq)
        return ordered[start : start + limit]

    def updated_since(self, since: datetime) -> list[SandboxReport]:
        """Reports updated at or after ``since``, oldest first."""
        ordered = self.by_update()
        return ordered[bisect.bisect_left(ordered, since, key=lambda r: r.updated_at) :]

    def changed(self) -> None:
        """Forgets the cached orders; every change to a report's seq or time calls it."""
        self._by_update = self._by_seq = None

    def _touch(self, report: SandboxReport) -> None:
        report.version += 1
        report.seq = next(self._seq)
        report.updated_at = self.stamp()
        self.changed()

    def set_status(
        self, report: SandboxReport, label: str, note: str, step: int | None = None
    ) -> None:
        """A status change by the node's own staff."""
        if label not in self.vocabulary.labels:
            raise UnknownLabel(f"{self.code} has no status {label!r}")
        report.status = label
        report.step = step if step is not None else self.vocabulary.step_of(label, report.step)
        report.note = note
        self._touch(report)

    def reply(self, report: SandboxReport, content: str) -> SandboxReply:
        """The reporter answers a follow-up in the node's app; the status stays."""
        self._touch(report)
        answer = SandboxReply(f"{report.id}-b{len(report.replies) + 1}", content, report.updated_at)
        report.replies.append(answer)
        return answer

    def rate(self, report: SandboxReport, score: int, comment: str | None) -> None:
        """The reporter rates the handling in the node's app, once."""
        if report.rating is not None:
            raise ValueError(f"report {report.id} is rated already")
        report.rating = (score, comment)
        self._touch(report)

    def write(
        self, report_id: str, label: str, note: str, event_id: str, institution: str | None
    ) -> SandboxReport:
        """A write from the hub: KeyError for an unknown report, UnknownLabel for a bad label."""
        report = self.reports[report_id]
        if self.honour_keys and event_id in self._applied:
            return report
        self.set_status(report, label, note)
        if institution:
            report.institution = institution
        report.updates.append(SandboxUpdate(event_id, label, note, institution, report.updated_at))
        self._applied.add(event_id)
        self.writes += 1
        return report

    def applied(self, event_id: str) -> bool:
        """Whether a write with ``event_id`` took effect already (and keys are honoured)."""
        return self.honour_keys and event_id in self._applied

    def create(
        self,
        hub_id: str,
        make: Callable[[str], SandboxReport],
        state: SandboxUpdate | None = None,
    ) -> SandboxReport:
        """Adds a report the hub sent; the same hub id always gives the same report.

        ``state``: the hub's write that comes with the creation (its status, note,
        institution and event id), applied in the same step, so the report shows
        the hub's state from the moment it exists; UnknownLabel for a bad label.
        """
        if self.honour_keys and hub_id in self._created:
            return self.reports[self._created[hub_id]]
        if state is not None and state.status not in self.vocabulary.labels:
            raise UnknownLabel(f"{self.code} has no status {state.status!r}")
        report = make(self._new_id())
        report.hub_id = hub_id
        report.created_at = report.updated_at = self.stamp()
        report.seq = next(self._seq)
        if state is not None:
            report.status, report.note = state.status, state.note
            report.step = self.vocabulary.step_of(state.status, report.step)
            if state.institution:
                report.institution = state.institution
            state.at = report.updated_at
            report.updates.append(state)
            self._applied.add(state.event_id)
            self.writes += 1
        self.reports[report.id] = report
        self._created.setdefault(hub_id, report.id)
        self.changed()
        self.interleave("created", report)
        return report

    def interleave(self, moment: str, report: SandboxReport) -> None:
        """Runs the staff action waiting for ``moment``, if any (once)."""
        action = self.interleaved.pop(moment, None)
        if action is not None:
            action(report)

    def by_hub_id(self, hub_id: str) -> SandboxReport | None:
        """The report the hub created under ``hub_id`` (the first, if it was doubled)."""
        found = self._created.get(hub_id)
        return self.reports[found] if found is not None else None

    def first_answer(self, key: str) -> tuple[int, bytes] | None:
        """The answer given to the first request with Idempotency-Key ``key``, if honoured."""
        return self._answers.get(key) if self.honour_keys else None

    def remember_answer(self, key: str, status: int, body: bytes) -> None:
        if self.honour_keys:
            self._answers.setdefault(key, (status, body))

    def add(self, report: SandboxReport) -> SandboxReport:
        """A report filed directly at the node (a citizen using the regency's app)."""
        report.created_at = report.updated_at = self.stamp()
        report.seq = next(self._seq)
        self.reports[report.id] = report
        self.changed()
        return report

    def next_id(self) -> str:
        return self._new_id()

    def advance(self, rng: random.Random) -> SandboxReport | None:
        """Staff move one open report a step along the node's own path."""
        vocabulary = self.vocabulary
        open_reports = [r for r in self.by_seq() if not vocabulary.final(r.status, r.step)]
        if not open_reports:
            return None
        report = rng.choice(open_reports)
        label, note, step = next_step(vocabulary, report.status, report.step, rng)
        self.set_status(report, label, note, step)
        return report

    def __iter__(self) -> Iterator[SandboxReport]:
        return iter(self.reports.values())


def next_step(
    vocabulary: NodeVocabulary, label: str, step: int, rng: random.Random
) -> tuple[str, str, int]:
    """Where the node's staff take a report next: (label, note, step index)."""
    steps = vocabulary.steps
    if label in vocabulary.resume:
        target = vocabulary.resume[label]
        index = vocabulary.step_of(target, -1)
        return target, steps[index].note, index
    detour = vocabulary.detour
    if detour and label == detour[0] and rng.random() < 0.2:
        return detour[1], detour[2], step
    index = min(step + 1, len(steps) - 1)
    return steps[index].label, steps[index].note, index
