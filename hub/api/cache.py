"""The response cache: answers of read-only queries kept as the bytes that were sent,
dropped exactly when a committed change can alter them.

**What is cached.** A query whose every field depends only on reports and reference
data (``plan`` checks its fields): no reporter identity (every read of it is
audited), no deadlines (they depend on today), nothing read live from a node or
about a node's sync, no ministry figure (they have ``currentTo``), no introspection. Mutations,
subscriptions and any answer with errors are never cached.

**The key**: the normalised document, the operation name, the variables, the
caller's ``Viewer`` (``hub.security.privacy`` decides what a caller may see, so two callers
who may see different things never share an entry) and the media type answered.

**What an entry depends on** is declared by the resolvers as they read (``Reads``
on the request's context): the ids of the reports read one by one, and for each
page of ``reports`` its filter and the ids of the rows it fetched. Reference data
(regions, topics) changes with a release: an operator who edits it in the database
restarts the hub, which empties the cache (the README says so). The institutions
directory is kept by admins at run time: an edit moves ``institutions.changed_at``,
and every entry goes when the feed sees it move.

**Invalidation** is driven by the committed changes themselves: ``ChangeFeed``
reads the outbox through ``hub.store.outbox_tail`` every 0.2 s in every hub
process, and at once after a mutation of this process, before its answer is sent.
A change drops the single reads of its report and the pages it can alter
(``page_affected``); a node's initial import, which writes no outbox rows, drops
every entry that depends on reports. An answer computed while a change that
affects it landed is not stored (``_Changes`` remembers the recent ones).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationType,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    get_operation_ast,
    parse,
    print_ast,
    visit,
)

from hub.api.reads import Reads, page_affected
from hub.outages import Outage, is_outage
from hub.security.privacy import Viewer
from hub.store.database import Database
from hub.store.outbox_tail import OutboxTail
from schema.events import ReportEvent, parse_event

_log = logging.getLogger(__name__)

CACHEABLE_ROOTS = frozenset({"report", "reports", "regions", "institutions", "topics"})
"""Query fields whose answers depend only on reports (declared through ``Reads``) and
on reference data."""

CACHEABLE_TYPES = frozenset(
    {
        "Query", "Report", "ReportConnection", "ReportEdge", "PageInfo", "Region",
        "Institution", "Topic", "HistoryEntry", "Disposition", "FollowUp", "Reply",
    }
)  # fmt: skip
"""Types whose fields may appear in a cached answer (a new type is not cached until
it is named here)."""

UNCACHEABLE_FIELDS = frozenset(
    {
        ("Report", "reporter"),  # every read of identity lands in the audit log
        ("Report", "deadlines"),  # overdue or not depends on today
        ("Report", "overdue"),
        ("Report", "attachments"),  # read live from the node
        ("Report", "externalRefs"),  # write-backs link them without an event
        ("Report", "originNode"),  # a node's sync and health change all the time
        ("Institution", "node"),
        ("Report", "duplicateOf"),  # linked just after the archive's event, by no event
        ("Report", "rating"),  # a rating changes no version and sends no event
    }
)


@dataclass(frozen=True, slots=True)
class Plan:
    """What the cache makes of a document and operation name."""

    operation: OperationType | None
    """None when the document does not parse or names no such operation."""
    normalised: str | None
    """The document as ``print_ast`` prints it; None when the answer is not cached."""


class _Cacheable(Visitor):
    def __init__(self, types: TypeInfo) -> None:
        super().__init__()
        self.types = types
        self.ok = True

    def enter_field(self, node: FieldNode, *_: object) -> object:
        parent = self.types.get_parent_type()
        name = node.name.value
        if name == "__typename":
            return None
        parent_name = get_named_type(parent).name if parent is not None else ""
        if (
            name.startswith("__")
            or parent_name not in CACHEABLE_TYPES
            or (parent_name == "Query" and name not in CACHEABLE_ROOTS)
            or (parent_name, name) in UNCACHEABLE_FIELDS
        ):
            self.ok = False
            return self.BREAK
        return None


def plan(schema: GraphQLSchema, query: str, operation_name: str | None, max_tokens: int) -> Plan:
    """Whether an answer to ``query`` may be cached, and under which document text. A
    document over ``max_tokens`` is not read (the limits refuse it afterwards)."""
    try:
        document: DocumentNode = parse(query, max_tokens=max_tokens, no_location=True)
    except GraphQLError:
        return Plan(None, None)
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return Plan(None, None)
    if operation.operation is not OperationType.QUERY:
        return Plan(operation.operation, None)
    types = TypeInfo(schema)
    check = _Cacheable(types)
    visit(document, TypeInfoVisitor(types, check))
    return Plan(operation.operation, print_ast(document) if check.ok else None)


@dataclass(slots=True)
class Entry:
    body: bytes
    etag: str
    reads: Reads


@dataclass(slots=True)
class CacheStats:
    hits: int = 0
    misses: int = 0
    stored: int = 0
    invalidated: int = 0
    """Entries dropped because a committed change could alter them."""
    not_stored: int = 0
    """Answers not stored because a change landed while they were computed."""


class _Changes:
    """The recent changes, numbered, so an answer computed meanwhile can be checked."""

    def __init__(self, keep: int = 10_000) -> None:
        self.seq = 0
        self._recent: deque[tuple[int, Change]] = deque(maxlen=keep)

    def add(self, event: Change) -> None:
        self.seq += 1
        self._recent.append((self.seq, event))

    def since(self, seq: int) -> list[Change] | None:
        """The changes after ``seq``; None when some are forgotten already."""
        if seq == self.seq:
            return []
        if not self._recent or self._recent[0][0] > seq + 1:
            return None
        return [event for n, event in self._recent if n > seq]


@dataclass(frozen=True, slots=True)
class DirectoryChange:
    """The institutions directory changed: any answer may name what changed."""


Change = ReportEvent | DirectoryChange | None
"""A committed change the cache hears of; None: a bulk load, which may alter anything
that reads reports."""


def _affects(event: Change, reads: Reads) -> bool:
    if isinstance(event, DirectoryChange):
        return True
    if event is None:
        return reads.on_reports
    return uuid.UUID(event.report_id) in reads.reports or any(
        page_affected(p, event) for p in reads.pages
    )


class ResponseCache:
    """Serialised answers under a byte budget, least recently used out first."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self.stats = CacheStats()
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._by_report: dict[uuid.UUID, set[str]] = {}
        """Keys of the entries that read a report alone or hold it in a page."""
        self._paged: set[str] = set()
        """Keys of the entries with a page, which a change may alter without naming it."""
        self._changes = _Changes()
        self._plans: OrderedDict[tuple[str, str | None], Plan] = OrderedDict()
        self.live = False
        """Set once the change feed reads: until then nothing is stored, as a change
        committed before the feed's start would never reach the entry."""

    def __len__(self) -> int:
        return len(self._entries)

    def plan(
        self, schema: GraphQLSchema, query: str, operation_name: str | None, max_tokens: int
    ) -> Plan:
        """``plan`` of the document, remembered for the 1,000 most recent documents of
        at most 10,000 characters that were read."""
        key = (query, operation_name)
        found = self._plans.get(key)
        if found is None:
            found = plan(schema, query, operation_name, max_tokens)
            if found.operation is not None and len(query) <= 10_000:
                self._plans[key] = found
                if len(self._plans) > 1000:
                    self._plans.popitem(last=False)
        else:
            self._plans.move_to_end(key)
        return found

    @staticmethod
    def key(
        normalised: str,
        operation_name: str | None,
        variables: Mapping[str, object] | None,
        viewer: Viewer,
        media: str,
    ) -> str:
        parts = [
            normalised,
            operation_name,
            variables or {},
            [viewer.sees_everything, sorted(viewer.nodes)],
            media,
        ]
        text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def get(self, key: str) -> Entry | None:
        entry = self._entries.get(key)
        if entry is None:
            self.stats.misses += 1
            return None
        self._entries.move_to_end(key)
        self.stats.hits += 1
        return entry

    @property
    def mark(self) -> int:
        """Where the changes stand: take it before computing an answer to ``put``."""
        return self._changes.seq

    def put(self, key: str, body: bytes, reads: Reads, mark: int) -> Entry | None:
        """Stores an answer computed from ``mark`` on, unless a change since can alter it."""
        landed = self._changes.since(mark)
        if not self.live or landed is None or any(_affects(event, reads) for event in landed):
            self.stats.not_stored += 1
            return None
        if len(body) > self.max_bytes // 4:
            return None
        entry = Entry(body, f'"{hashlib.sha256(body).hexdigest()[:32]}"', reads)
        self._drop(key)
        self._entries[key] = entry
        for report_id in _reports_in(reads):
            self._by_report.setdefault(report_id, set()).add(key)
        if reads.pages:
            self._paged.add(key)
        self.bytes += len(body)
        self.stats.stored += 1
        while self.bytes > self.max_bytes:
            self._drop(next(iter(self._entries)))
        return entry

    def changed(self, events: Iterable[Change]) -> None:
        """Drops what the committed changes can alter (``None``: a bulk load)."""
        for event in events:
            self._changes.add(event)
            if isinstance(event, DirectoryChange):
                stale = set(self._entries)
            elif event is None:
                stale = {k for k, e in self._entries.items() if e.reads.on_reports}
            else:
                stale = set(self._by_report.get(uuid.UUID(event.report_id), ()))
                stale |= {k for k in self._paged if _affects(event, self._entries[k].reads)}
            for key in stale:
                self._drop(key)
            self.stats.invalidated += len(stale)

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        self.bytes -= len(entry.body)
        self._paged.discard(key)
        for report_id in _reports_in(entry.reads):
            keys = self._by_report.get(report_id)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_report[report_id]


def _reports_in(reads: Reads) -> set[uuid.UUID]:
    return reads.reports.union(*(p.ids for p in reads.pages))


def _event(event_id: uuid.UUID, data: str) -> ReportEvent | None:
    """The change a row announces; None (anything on reports may have changed) for a
    row this version cannot read, e.g. a newer event's during a rolling upgrade."""
    try:
        return parse_event(str(event_id), json.loads(data))
    except Exception:  # a row that will not parse must not stop the feed
        _log.warning("outbox event %s unreadable; cache entries on reports dropped", event_id)
        return None


class ChangeFeed:
    """Feeds the committed changes to the cache: every ``interval`` seconds, and on
    demand (``catch_up``) after a mutation of this process."""

    def __init__(self, db: Database, cache: ResponseCache, interval: float = 0.2) -> None:
        self._db = db
        self._cache = cache
        self._interval = interval
        self._tail: OutboxTail | None = None
        self._imports: int | None = None
        self._directory: object = None
        self._lock = asyncio.Lock()
        self._read_at = 0.0
        """When the last read began (it saw every change committed before then)."""

    async def catch_up(self) -> None:
        """Applies every change committed before the call. Concurrent callers share a
        read: one that waited while a read began after its call returns at once."""
        called = time.monotonic()
        async with self._lock:
            if self._read_at > called:
                return
            self._read_at = time.monotonic()
            async with self._db.session() as session:
                if self._tail is None:
                    # Nothing can be cached before the feed starts: begin from now.
                    self._tail = await OutboxTail.from_now(session)
                    generations = await session.fetchrow("cache_generations")
                    assert generations is not None
                    self._imports, self._directory = generations
                    self._cache.live = True
                    # An answer computed before now may predate changes the feed will
                    # never hand out: none of those may be stored.
                    self._cache.changed([None])
                    return
                while True:
                    batch = await self._tail.read(session)
                    events = [
                        _event(event_id, data)
                        for event_id, data in zip(batch.event_ids, batch.data, strict=True)
                    ]
                    generations = await session.fetchrow("cache_generations")
                    assert generations is not None
                    imports, directory = generations
                    # A bulk import writes no outbox rows; rows the retention job deleted
                    # before this feed read them are changes it will never see.
                    missed = imports != self._imports or batch.gap
                    bulk: list[Change] = [None] if missed else []
                    if directory != self._directory:
                        bulk.append(DirectoryChange())
                    self._cache.changed([*events, *bulk])
                    self._imports, self._directory = imports, directory
                    self._tail.advance(batch)
                    if batch.caught_up:
                        return

    async def run(self, stop: asyncio.Event) -> None:
        database = Outage("response cache: PostgreSQL", logger=_log)
        while not stop.is_set():
            try:
                await self.catch_up()
                database.recovered()
            except Exception as error:
                if is_outage(error):
                    # What changed meanwhile is unknown: start again from an empty cache.
                    self._cache.changed([None])
                    await database.wait(error, stop)
                else:
                    _log.exception("reading changes for the response cache failed")
                    self._cache.changed([None])
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), 5)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._interval)
