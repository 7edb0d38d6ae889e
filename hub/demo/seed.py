"""The demo data set: a deterministic, realistic index of South Sumatran reports.

``seed_reports`` bulk-loads reports with their reporters, histories, disposition
chains, follow-ups and external references through COPY, in one transaction.
The same seed and the same ``now`` give the same rows, byte for byte: every
random choice, uuids included, comes from one ``random.Random(seed)`` stream.

The load is an initial import of reports that already exist, not a series of
changes, so it writes no outbox rows and publishes no events. Each report is
submitted and each step of its history decided by the domain core
(``hub.domain.core.submit`` and ``decide``), so every chain is one the write path
could have produced; the reports and history rows are copied in by the store's
writer of decided effects (``hub.store.effects``). Personal data goes to
``reporters`` only; the report texts are built from templates that name no person.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import random
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Generic, TypeVar

from hub.demo.texts import (
    ARCHIVE,
    CLOSINGS,
    DURATIONS,
    FAMILY,
    FOLLOW_UPS,
    MAIL_DOMAINS,
    MEN,
    MONTHS,
    MUSI_REGIONS,
    OPENINGS,
    PHONE_PREFIXES,
    PLACES,
    POSTPONE_NOTES,
    PROVINCE_REF_FORMAT,
    PROVINCE_WEIGHT,
    RATING_COMMENTS,
    REOPEN_NOTES,
    REPLIES,
    TEXTS,
    WOMEN,
    Place,
    Text,
)
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
    Submit,
    Transition,
    Verify,
)
from hub.domain.core import (
    Change,
    Current,
    Entry,
    Known,
    NewReport,
    allowed_verbs,
    decide,
    default_institution,
    submit,
)
from hub.errors import HubError
from hub.ministry.autoclose import AUTO_CLOSE_NOTE
from hub.store.connection import Connection, Session
from hub.store.effects import copy_history, copy_reports
from schema.calendar import WorkingCalendar
from schema.institutions import INSTITUTIONS
from schema.lifecycle import ReportState, Verb
from schema.nodes import NATIONAL_NODE
from schema.regions import PROVINCE_CODE, REGENCIES, RegionType
from schema.report import (
    ActorRole,
    ArchiveReason,
    Channel,
    ComplaintSubKind,
    PrivacyFlags,
    ReportKind,
)
from schema.sla import CURRENT_SLA_VERSION, SLA_RULES, SlaStage, rule_for
from schema.topics import TOPICS

T = TypeVar("T")


class SeedError(HubError):
    """The demo data set cannot be loaded into this database."""

    code = "SEED"


# fmt: off
# Hour-of-day weights (WIB) of submissions: citizens write in the day and evening.
_HOURS = (1, 1, 1, 1, 2, 4, 6, 8, 10, 11, 11, 10, 9, 9, 9, 8, 7, 7, 8, 9, 8, 6, 4, 2)
_WIB = timedelta(hours=7)

_S, _V = ReportState, Verb
# How likely each move is from each state, and (None) that nothing more happens (a stall).
# Which moves a state allows is the life cycle's (``hub.domain.core.allowed_verbs``); a
# move it allows that is not weighted here is never played.
_WEIGHTS: Mapping[ReportState, Mapping[Verb | None, float]] = {
    _S.SUBMITTED: {_V.VERIFY: 0.79, _V.POSTPONE: 0.10, _V.ARCHIVE: 0.06, None: 0.05},
    _S.POSTPONED: {_V.VERIFY: 0.45, _V.ARCHIVE: 0.30, None: 0.25},
    _S.VERIFIED: {_V.DISPOSE: 0.94, _V.ARCHIVE: 0.02, None: 0.04},
    _S.DISPOSED: {_V.FOLLOW_UP: 0.74, _V.DISPOSE: 0.10, _V.DECLINE: 0.06, None: 0.10},
    _S.IN_FOLLOW_UP: {
        _V.COMPLETE: 0.62, _V.FOLLOW_UP: 0.18, _V.DISPOSE: 0.04, _V.REPLY: 0.06, None: 0.10,
    },
    _S.COMPLETED: {_V.REOPEN: 0.04, _V.REPLY: 0.03, None: 0.93},
}


def _next(state: ReportState) -> tuple[tuple[Verb | None, float], ...]:
    """The moves the life cycle allows from ``state`` with their weights, and the stall."""
    weights = _WEIGHTS.get(state, {})
    unknown = set(weights) - {None, *allowed_verbs(state)}
    if unknown:
        raise SeedError(f"the seed weighs moves the life cycle forbids from {state.value}: "
                        f"{sorted(v.value for v in unknown if v is not None)}")  # fmt: skip
    moves = tuple((verb, weights.get(verb, 0.0)) for verb in allowed_verbs(state))
    return (*moves, (None, weights.get(None, 1.0 if not moves else 0.0)))


# Mean delay in hours before each verb (exponentially distributed, at least five minutes).
_DELAY_HOURS: Mapping[Verb, float] = {
    _V.VERIFY: 30, _V.POSTPONE: 20, _V.ARCHIVE: 40, _V.DISPOSE: 24, _V.FOLLOW_UP: 96,
    _V.COMPLETE: 120, _V.REOPEN: 72, _V.DECLINE: 30, _V.REPLY: 48,
}
_RATED = 0.35
"""The share of completed reports whose reporter rates them."""
_SCORES = ((1, 8), (2, 10), (3, 22), (4, 35), (5, 25))
"""Satisfaction scores and their weights."""
DECLINE_REASON = "Bukan wewenang kami; mohon didisposisikan ke instansi yang berwenang."
_MAX_HISTORY = 14
_MAX_DISPOSITIONS = 4
_MAX_FOLLOW_UPS = 4
_CHUNK = 5_000

_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "reporters": ("report_id", "name", "nik", "phone", "email"),
    "dispositions": ("report_id", "seq", "from_institution", "to_institution", "note",
                     "actor_node", "at", "declined"),
    "follow_ups": ("report_id", "institution_code", "content", "actor_node", "at"),
    "external_refs": ("node_code", "external_id", "report_id"),
    "replies": ("report_id", "content", "actor_node", "at"),
    "report_ratings": ("report_id", "score", "comment", "institution_code", "actor_node", "at"),
}
"""Tables that hang off a report, in load order, with the columns COPY fills (reports
and their history go first, through ``hub.store.effects``)."""
# fmt: on


async def seed_reports(
    conn: Connection,
    count: int,
    *,
    seed: int = 1608,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Loads ``count`` reports into an empty, migrated index; returns how many it wrote.

    Submissions spread over the two years before ``now`` (default: the current
    time, so pass ``now`` for identical data across runs). Everything is one
    transaction: a failure leaves the index empty. ``progress`` is called with
    the number of reports generated so far after each chunk. No outbox rows
    are written: this is an initial load, not a change anyone must hear of.
    """
    if count < 0:
        raise ValueError(f"count must not be negative, got {count}")
    moment = (now or datetime.now(UTC)).replace(microsecond=0)
    if moment.tzinfo is None:
        raise ValueError("now must carry a time zone")
    existing = await seeded_count(conn)
    if existing:
        # Seeded ids and tracking ids would collide with an earlier load.
        raise SeedError(f"the index already holds {existing} reports; seed an empty one")
    builder = _Builder(_Dice(seed), moment, count)
    times = builder.submission_times(count)
    chunks = [times[start : start + _CHUNK] for start in range(0, count, _CHUNK)]
    done = 0
    next_batch: asyncio.Task[_Batch] | None = None
    try:
        async with conn.transaction():
            for index, chunk in enumerate(chunks):
                batch = await next_batch if next_batch else builder.batch(chunk)
                next_batch = None
                if index + 1 < len(chunks):
                    # PostgreSQL checks foreign keys on the other core while the next chunk
                    # is drawn here; chunks are still drawn one after another, in order.
                    next_batch = asyncio.create_task(
                        asyncio.to_thread(builder.batch, chunks[index + 1])
                    )
                await copy_reports(conn, batch.reports)
                await copy_history(conn, batch.history)
                for table, columns in _COLUMNS.items():
                    rows = batch.rows[table]
                    if rows:
                        await conn.copy_records_to_table(table, records=rows, columns=columns)
                done += len(chunk)
                if progress is not None:
                    progress(done)
            # No outbox rows, so the roll-ups' projection hears of these reports here.
            await Session.on(conn).execute("ministry_pending_all")
    finally:
        if next_batch is not None:
            # A failed COPY must not leave a drawing thread behind.
            await asyncio.wait([next_batch])
    return count


async def seeded_count(conn: Connection) -> int:
    """How many reports the index holds (seeded or not)."""
    # No filter, counted as a viewer who sees every report.
    no_filter: tuple[object, ...] = (*(None,) * 7, True, [])
    total: int = await Session.on(conn).fetchval("reports_count", *no_filter)
    return total


class _Dice(random.Random):
    """``random.Random`` with cheaper uniform picks: the seed draws millions of them."""

    def pick(self, seq: Sequence[T]) -> T:
        return seq[int(self.random() * len(seq))]

    def below(self, n: int) -> int:
        return int(self.random() * n)


class _Weighted(Generic[T]):
    """A weighted choice whose cumulative weights are summed once, not on every draw."""

    __slots__ = ("_cum", "_total", "_values")

    def __init__(self, pairs: Iterable[tuple[T, float]]) -> None:
        kept = [(value, weight) for value, weight in pairs if weight > 0]
        self._values = tuple(value for value, _ in kept)
        self._cum = tuple(itertools.accumulate(weight for _, weight in kept))
        self._total = self._cum[-1]

    def draw(self, rng: _Dice) -> T:
        # As random.choices does it, minus recomputing the sums.
        return self._values[
            bisect.bisect(self._cum, rng.random() * self._total, 0, len(self._cum) - 1)
        ]


@dataclass(slots=True)
class _Batch:
    """Rows of one chunk, per table, in COPY column order."""

    reports: list[NewReport] = field(default_factory=list)
    history: list[Entry] = field(default_factory=list)
    rows: dict[str, list[tuple[object, ...]]] = field(
        default_factory=lambda: {table: [] for table in _COLUMNS}
    )


@dataclass(slots=True)
class _Walk:
    """The state of one report while its life cycle is played."""

    region: str
    origin: str
    at: datetime
    current: Current
    """The report as the domain core sees it."""
    history: list[Entry]
    links: int = 0
    follow_ups: int = 0
    reopened: bool = False
    archive_reason: ArchiveReason | None = None
    ref_nodes: set[str] = field(default_factory=set)

    @property
    def report_id(self) -> uuid.UUID:
        return self.current.id

    @property
    def state(self) -> ReportState:
        return self.current.state

    @property
    def institution(self) -> str:
        return self.current.institution_code


class _Builder:
    """Draws reports one by one from a single random stream."""

    def __init__(self, rng: _Dice, now: datetime, count: int) -> None:
        self.rng = rng
        self.now = now
        self.calendar = WorkingCalendar.indonesia(range(now.year - 3, now.year + 2))
        rule = rule_for(
            SLA_RULES, CURRENT_SLA_VERSION, SlaStage.AUTO_CLOSE, ReportKind.COMPLAINT, None
        )
        assert rule is not None, "the SLA table has an auto-close rule"
        self.auto_close_days = rule.working_days
        self.node_of = {i.code: i.node_code for i in INSTITUTIONS}
        self.regions = [*(r.code for r in REGENCIES), PROVINCE_CODE]
        self.region = _Weighted(
            [
                *((r.code, PLACES[r.code].weight) for r in REGENCIES),
                (PROVINCE_CODE, PROVINCE_WEIGHT),
            ]
        )
        self.hour = _Weighted(enumerate(_HOURS))
        self.kind = _Weighted(
            (
                (ReportKind.ASPIRATION, 18),
                (ReportKind.COMPLAINT, 70),
                (ReportKind.INFORMATION_REQUEST, 12),
            )
        )
        self.moves = {state: _next(state) for state in ReportState}
        self.next_verb = {state: _Weighted(options) for state, options in self.moves.items()}
        self.archive = _Weighted((reason, weight) for reason, (weight, _) in ARCHIVE.items())
        self.channel = {
            NATIONAL_NODE: _Weighted(
                (
                    (Channel.WEB, 40),
                    (Channel.MOBILE_APP, 35),
                    (Channel.SMS_1708, 15),
                    (Channel.TWITTER, 10),
                )
            ),
            PROVINCE_CODE: _Weighted(
                (
                    (Channel.INTEGRATED_APP, 50),
                    (Channel.WEB, 25),
                    (Channel.FACE_TO_FACE, 15),
                    (Channel.TWITTER, 10),
                )
            ),
            # A regency's own node: its integrated app, or its front desk.
            "": _Weighted(
                ((Channel.INTEGRATED_APP, 70), (Channel.FACE_TO_FACE, 20), (Channel.WEB, 10))
            ),
        }
        self.kinds = {r.code: r.type for r in REGENCIES}
        self.names = {r.code: r.name for r in REGENCIES}
        leaves = [t.id for t in TOPICS if t.parent_id is not None]
        missing = set(leaves) ^ set(TEXTS)
        if missing:
            raise SeedError(f"topics without seed texts (or texts without topics): {missing}")
        # One table per (on the Musi?, month): seasonal topics swell in their months.
        self.topic = {
            (musi, month): _Weighted(
                (
                    topic,
                    0
                    if topic == 602 and not musi
                    else TEXTS[topic].weight * (4 if month in TEXTS[topic].months else 1),
                )
                for topic in leaves
            )
            for musi in (False, True)
            for month in range(1, 13)
        }
        self.ref_seq: dict[str, int] = {}
        # LAPOR! numbers every report of the country, so ours are a sparse subsequence;
        # the gaps shrink for big loads so the ids stay seven digits long.
        self.lapor_id = 1_480_000
        self.lapor_step = max(1, min(60, 30_000_000 // max(1, count)))

    def submission_times(self, count: int) -> list[datetime]:
        """Submission moments over the last two years, oldest first, busier lately."""
        local_start = (self.now + _WIB - timedelta(days=730)).replace(hour=0, minute=0, second=0)
        midnight = local_start - _WIB  # the UTC instant of that WIB midnight
        times = []
        for _ in range(count):
            # u ** 0.8 leans towards 1: more reports lately, as adoption grows.
            day = int(729 * self.rng.random() ** 0.8)
            hour = self.hour.draw(self.rng)
            offset = timedelta(days=day, hours=hour, seconds=self.rng.below(3600))
            times.append(midnight + offset)
        times.sort()
        return [min(t, self.now - timedelta(minutes=10)) for t in times]

    def batch(self, times: Sequence[datetime]) -> _Batch:
        """Draws the reports submitted at ``times`` into a fresh batch."""
        batch = _Batch()
        for submitted_at in times:
            self.report(submitted_at, batch)
        return batch

    def report(self, submitted_at: datetime, batch: _Batch) -> None:
        """Draws one report with everything that hangs off it into ``batch``."""
        rng = self.rng
        report_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        region = self.region.draw(rng)
        place_region = region if region != PROVINCE_CODE else rng.pick(self.regions[:-1])
        place = PLACES[place_region]
        topic = self.topic[region in MUSI_REGIONS, (submitted_at + _WIB).month].draw(rng)
        text = TEXTS[topic]
        kind = self.kind.draw(rng)
        sub_kind = None
        if kind is ReportKind.COMPLAINT:
            supervisory = rng.random() < text.supervisory
            sub_kind = (
                ComplaintSubKind.SUPERVISORY if supervisory else ComplaintSubKind.NON_SUPERVISORY
            )
        origin = self._origin(region)
        channel = self.channel.get(origin, self.channel[""]).draw(rng)
        words = self._words(place_region, place)
        title, body = self._title_body(text, kind)
        content = " ".join(
            part for part in (rng.pick(OPENINGS[kind]), body, rng.pick(CLOSINGS[kind])) if part
        ).format(**words)
        location, lat, lon = self._location(place, words)
        anonymous = rng.random() < 0.10
        confidential = rng.random() < (0.20 if anonymous else 0.033)
        tags = self._tags(text, place.town)
        local_day = (submitted_at + _WIB).date()
        incident = local_day - timedelta(days=rng.below(21)) if rng.random() < 0.7 else None
        synced = origin == NATIONAL_NODE or rng.random() < 0.85
        command = Submit(
            kind=kind, title=title.format(**words)[:200], content=content[:10_000],
            region_code=region, topic_id=topic, channel=channel, complaint_sub_kind=sub_kind,
            incident_date=incident, location=location, latitude=lat, longitude=lon,
            tags=tuple(tags), privacy=PrivacyFlags(anonymous, confidential),
        )  # fmt: skip
        actor = Actor(origin, self._submit_role(channel, synced), everywhere=True)
        try:
            institution = self.node_of[default_institution(region)]
            made = submit(command, actor, report_id, submitted_at, Known.everything(institution))
        except HubError as error:
            raise SeedError(f"seed submission: {error.message}") from error
        walk = _Walk(region, origin, submitted_at, made.current, [made.entry])
        if synced:
            external_id = self._external_id(origin, submitted_at)
            batch.rows["external_refs"].append((origin, external_id, report_id))
            walk.ref_nodes.add(origin)
        self._play(walk, topic, batch)
        batch.reports.append(made.report.after(walk.current, walk.archive_reason, walk.at))
        batch.history.extend(walk.history)
        if rng.random() < 0.88:
            batch.rows["reporters"].append(self._reporter(report_id, region, channel))

    def _origin(self, region: str) -> str:
        roll = self.rng.random()
        if region == PROVINCE_CODE:
            return NATIONAL_NODE if roll < 0.55 else PROVINCE_CODE
        return NATIONAL_NODE if roll < 0.45 else region if roll < 0.87 else PROVINCE_CODE

    @staticmethod
    def _submit_role(channel: Channel, synced: bool) -> ActorRole:
        if channel is Channel.FACE_TO_FACE:
            return ActorRole.INSTITUTION_ADMIN
        # A report synced from a node's own system arrives through its service account.
        return ActorRole.NODE_SYSTEM if synced else ActorRole.REPORTER

    def _words(self, region: str, place: Place) -> dict[str, str]:
        rng = self.rng
        prefix = "Kota" if self.kinds[region] is RegionType.KOTA else "Kabupaten"
        return {
            "jalan": rng.pick(place.jalan),
            "kel": rng.pick(place.kelurahan),
            "kec": rng.pick(place.kecamatan),
            "kota": place.town,
            "wilayah": f"{prefix} {self.names[region]}",
            "rs": place.hospital,
            "n": str(1 + rng.below(25)),
            "jam": rng.pick(("dua", "tiga", "empat")),
            "durasi": rng.pick(DURATIONS),
        }

    def _title_body(self, text: Text, kind: ReportKind) -> tuple[str, str]:
        if kind is ReportKind.ASPIRATION:
            return text.aspiration
        if kind is ReportKind.INFORMATION_REQUEST:
            return text.information
        return self.rng.pick(text.complaints)

    def _location(
        self, place: Place, words: Mapping[str, str]
    ) -> tuple[str | None, float | None, float | None]:
        rng = self.rng
        if rng.random() < 0.15:
            return None, None, None
        location = f"{words['jalan']}, Kel. {words['kel']}, Kec. {words['kec']}, {words['wilayah']}"
        if rng.random() < 0.4:
            return location, None, None
        lat = round(place.centre[0] + rng.uniform(-0.08, 0.08), 6)
        lon = round(place.centre[1] + rng.uniform(-0.08, 0.08), 6)
        return location, lat, lon

    def _tags(self, text: Text, town: str) -> list[str]:
        tags = self.rng.sample(text.tags, k=self.rng.below(len(text.tags) + 1))
        if self.rng.random() < 0.3:
            tags.append(town.lower().replace(" ", "-"))
        return tags

    def _play(self, walk: _Walk, topic: int, batch: _Batch) -> None:
        """Walks the life cycle from SUBMITTED until a stall, a final state or now; a
        reporter rates some of the reports that end completed."""
        self._walk(walk, topic, batch)
        if walk.state is ReportState.COMPLETED and self.rng.random() < _RATED:
            at = walk.at + timedelta(hours=1 + self.rng.below(72))
            if at < self.now:
                score = _Weighted(_SCORES).draw(self.rng)
                comment = self.rng.pick(RATING_COMMENTS[score]) or None
                batch.rows["report_ratings"].append(
                    (walk.report_id, score, comment, walk.institution, walk.origin, at)
                )

    def _walk(self, walk: _Walk, topic: int, batch: _Batch) -> None:
        rng = self.rng
        last: Verb | None = None
        while len(walk.history) < _MAX_HISTORY:
            capped = (
                walk.links >= _MAX_DISPOSITIONS
                or walk.follow_ups >= _MAX_FOLLOW_UPS
                or walk.reopened
            )
            if capped:
                options = _Weighted(
                    (verb, weight)
                    for verb, weight in self.moves[walk.state]
                    if not (verb is Verb.DISPOSE and walk.links >= _MAX_DISPOSITIONS)
                    and not (verb is Verb.FOLLOW_UP and walk.follow_ups >= _MAX_FOLLOW_UPS)
                    and not (verb is Verb.REOPEN and walk.reopened)
                )
                verb = options.draw(rng)
            else:
                verb = self.next_verb[walk.state].draw(rng)
            if verb is None:
                self._close_if_quiet(walk, topic, batch, last)
                return
            auto_close = verb is Verb.COMPLETE and rng.random() < 0.35
            if auto_close:
                # Ten working days without a reply from the reporter, about two weeks.
                delay = timedelta(days=14, minutes=rng.below(600))
            else:
                mean = _DELAY_HOURS[verb] * (4 if walk.state is ReportState.POSTPONED else 1)
                delay = timedelta(seconds=max(300, int(rng.expovariate(1 / (mean * 3600)))))
            if walk.at + delay >= self.now:
                self._close_if_quiet(walk, topic, batch, last)
                return
            walk.at += delay
            self._apply(walk, verb, topic, batch, auto_close)
            last = verb

    def _close_if_quiet(self, walk: _Walk, topic: int, batch: _Batch, last: Verb | None) -> None:
        """A walk that stops right after a follow-up is closed as the hub's auto-close job
        would have closed it, just after its due day; so the index holds no report the
        job still owes a close (the job would otherwise close them all at the first
        start, and every node would be sent the news of old reports)."""
        if walk.state is not ReportState.IN_FOLLOW_UP or last is not Verb.FOLLOW_UP:
            return
        closes = self.calendar.due_at(walk.at, self.auto_close_days) + timedelta(minutes=5)
        if closes >= self.now:
            return
        walk.at = closes
        self._apply(walk, Verb.COMPLETE, topic, batch, True)

    def _apply(self, walk: _Walk, verb: Verb, topic: int, batch: _Batch, auto: bool) -> None:
        rng = self.rng
        rid = walk.report_id
        handler = self.node_of[walk.institution]
        # Whoever screens reports at the node they came in through.
        national = walk.origin == NATIONAL_NODE
        screener = ActorRole.NATIONAL_ADMIN if national else ActorRole.INSTITUTION_ADMIN
        command: Transition
        match verb:
            case Verb.VERIFY:
                command, role, node = Verify(rid), screener, walk.origin
            case Verb.POSTPONE:
                command = Postpone(rid, rng.pick(POSTPONE_NOTES))
                role, node = screener, walk.origin
            case Verb.ARCHIVE:
                # A postponed report is archived because its reporter never completed it.
                reason = (
                    ArchiveReason.UNCLEAR
                    if walk.state is ReportState.POSTPONED
                    else self.archive.draw(rng)
                )
                command = Archive(rid, reason, ARCHIVE[reason][1])
                role, node = screener, walk.origin
            case Verb.DISPOSE:
                first = walk.links == 0
                target = self._first_target(walk, topic) if first else self._redirect(walk, topic)
                note = (
                    "Mohon ditindaklanjuti sesuai kewenangan."
                    if first
                    else "Bukan wewenang kami; didisposisikan ulang ke instansi yang berwenang."
                )
                command = Dispose(rid, target, note)
                node, role = (
                    (walk.origin, screener) if first else (handler, ActorRole.INSTITUTION_ADMIN)
                )
            case Verb.FOLLOW_UP:
                due = (walk.at + _WIB + timedelta(days=3)).date()
                command = FollowUp(rid, rng.pick(FOLLOW_UPS).format(tanggal=_tanggal(due)))
                role, node = ActorRole.LIAISON_ADMIN, handler
            case Verb.COMPLETE:
                if auto:
                    command, role = Complete(rid, AUTO_CLOSE_NOTE), ActorRole.SYSTEM
                else:
                    command, role = Complete(rid), ActorRole.INSTITUTION_ADMIN
                node = handler
            case Verb.REOPEN:
                by_reporter = rng.random() < 0.7
                command = Reopen(rid, rng.pick(REOPEN_NOTES))
                role, node = (ActorRole.REPORTER if by_reporter else screener), walk.origin
            case Verb.REPLY:
                # The reporter answers a follow-up through the app they filed with.
                command = Reply(rid, rng.pick(REPLIES))
                role, node = ActorRole.REPORTER, walk.origin
            case Verb.DECLINE:
                # The receiving institution finds it is not its competence.
                command = Decline(rid, DECLINE_REASON)
                role, node = ActorRole.INSTITUTION_ADMIN, handler
            case Verb.SUBMIT:  # pragma: no cover - recorded before the walk starts
                raise SeedError("SUBMIT is not a transition")
        change = self._transition(walk, command, role, node)
        if change.disposition is not None:
            link = change.disposition
            walk.links += 1
            batch.rows["dispositions"].append(
                (rid, link.seq, link.from_institution, link.to_institution, link.note, node,
                 walk.at, link.declined)
            )  # fmt: skip
            target_node = self.node_of[link.to_institution]
            fresh = target_node not in walk.ref_nodes and target_node != NATIONAL_NODE
            if fresh and rng.random() < 0.3:
                # The receiving node's own system gives the report an id of its own.
                walk.ref_nodes.add(target_node)
                batch.rows["external_refs"].append(
                    (target_node, self._external_id(target_node, walk.at), rid)
                )
        if change.follow_up is not None:
            walk.follow_ups += 1
            batch.rows["follow_ups"].append(
                (rid, change.institution_code, change.follow_up, node, walk.at)
            )
        if change.reply is not None:
            batch.rows["replies"].append((rid, change.reply, node, walk.at))
        if verb is Verb.REOPEN:
            walk.reopened = True
        if change.archive_reason is not None:
            walk.archive_reason = change.archive_reason

    def _transition(self, walk: _Walk, command: Transition, role: ActorRole, node: str) -> Change:
        """The change ``command`` makes, decided by the domain core as the hub would."""
        current, actor = walk.current, Actor(node, role, everywhere=True)
        target = command.institution_code if isinstance(command, Dispose) else None
        try:
            change = decide(current, command, actor, current.version,
                            target_node=self.node_of.get(target) if target else None)  # fmt: skip
        except HubError as error:
            raise SeedError(f"seed walk: {error.message}") from error
        walk.history.append(current.entry(change, actor, walk.at))
        walk.current = current.after(change)
        return change

    def _first_target(self, walk: _Walk, topic: int) -> str:
        text = TEXTS[topic]
        roll = self.rng.random()
        if walk.region != PROVINCE_CODE and roll < 0.10:
            # Kab A → kab B: the place is across the border, or the road is theirs.
            return self._other_regency(walk.region)
        if roll < 0.18:
            return f"kl-{text.ministry}"
        return f"opd-16-{text.opd}"

    def _redirect(self, walk: _Walk, topic: int) -> str:
        """A re-disposition (bukan wewenang): back home, to another OPD or up a level."""
        text = TEXTS[topic]
        home = default_institution(walk.region)
        other_opd = self.rng.pick([t.opd for t in TEXTS.values() if t.opd != text.opd])
        candidates = (
            (home, 5),
            (f"opd-16-{text.opd}", 3),
            (f"opd-16-{other_opd}", 1),
            (f"kl-{text.ministry}", 2),
        )
        return _Weighted(c for c in candidates if c[0] != walk.institution).draw(self.rng)

    def _other_regency(self, region: str) -> str:
        return f"pemda-{self.rng.pick([r for r in self.regions[:-1] if r != region])}"

    def _external_id(self, node: str, at: datetime) -> str:
        """A tracking id in the shape the node's system uses, unique per node."""
        seq = self.ref_seq.get(node, 0) + 1
        self.ref_seq[node] = seq
        if node == NATIONAL_NODE:
            self.lapor_id += 1 + self.rng.below(self.lapor_step)
            return str(self.lapor_id)
        local = at + _WIB
        shape = PROVINCE_REF_FORMAT if node == PROVINCE_CODE else PLACES[node].ref_format
        return shape.format(year=local.year, month=local.month, seq=seq)

    def _reporter(self, report_id: uuid.UUID, region: str, channel: Channel) -> tuple[object, ...]:
        rng = self.rng
        woman = rng.random() < 0.45
        first = rng.pick(WOMEN if woman else MEN)
        family = rng.pick(FAMILY)
        name = f"{first} {family}" if rng.random() < 0.85 else first
        home = region if region != PROVINCE_CODE else rng.pick(self.regions[:-1])
        nik = None
        if rng.random() < 0.7:
            born = date(1955, 1, 1) + timedelta(days=rng.below(51 * 365))
            day = born.day + (40 if woman else 0)
            nik = (
                f"{home.replace('.', '')}{1 + rng.below(20):02d}"
                f"{day:02d}{born.month:02d}{born.year % 100:02d}{1 + rng.below(99):04d}"
            )
        phone = None
        if rng.random() < 0.8 or channel is Channel.SMS_1708:
            width = 7 + rng.below(2)
            phone = f"08{rng.pick(PHONE_PREFIXES)}{rng.below(10**width):0{width}d}"
        email = None
        if rng.random() < 0.55:
            handle = f"{first}.{family}".lower() if " " in name else first.lower()
            email = f"{handle}{1 + rng.below(999)}@{rng.pick(MAIL_DOMAINS)}"
        return (report_id, name, nik, phone, email)


def _tanggal(day: date) -> str:
    """A date the Indonesian way, e.g. ``12 Maret 2025``."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
