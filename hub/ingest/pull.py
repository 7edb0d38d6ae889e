"""Pulls: what the nodes' connectors show becomes domain commands on the one write path.

For each node whose connector pulls (every kind but ``push``), changes are read
page by page from the node's persisted watermark. Each change becomes a run of
domain commands through ``ReportService.execute``, acting as the pulling node's
NODE_SYSTEM actor (so that node's connector skips writing the change back to it).
What the hub will not guess (an unmapped status or topic, a move the life cycle
forbids) goes to the review queue. A page's watermark is persisted only after
its changes were applied, so a crash re-pulls at most one page, and idempotency
keys make that harmless.

A node's first pull (no watermark yet) is imported set-wise instead, with the
same decisions and without outbox events; see ``hub.ingest.initial``. Every
later pull runs change by change as above.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from connectors.change import ChangePage, ExternalChange, ReportContent
from connectors.config import NodeTable, load_node_table
from connectors.errors import ConnectorError, NodeTableError
from connectors.federation import Federation
from connectors.protocol import Connector
from connectors.transitions import verbs_between
from hub import traces
from hub.domain.commands import (
    Actor,
)
from hub.domain.ratings import Ratings
from hub.domain.review import LearnedVocabulary
from hub.domain.service import ReportService
from hub.errors import BadInput, ConfigError, InvalidTransition, VersionConflict
from hub.ingest.initial import InitialSync
from hub.ingest.locks import NodeLocks
from hub.ingest.pulled import submit_for, transition_for
from hub.ingest.voices import ReporterVoice
from hub.outages import Outage, is_outage
from hub.security.audit import AuditLog
from hub.store.database import Database
from hub.store.rows import ReportRow
from schema.lifecycle import ReportState
from schema.report import (
    ActorRole,
    PrivacyFlags,
    ReportKind,
)

_log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


def node_table_for(env: Mapping[str, str], path: Path | None) -> NodeTable:
    """The node table, or a ConfigError naming the node and the key that is wrong."""
    try:
        return load_node_table(env, path)
    except NodeTableError as error:
        raise ConfigError(f"node table: {error}") from None


class HubDirectory:
    """The hub side of connectors' ``ReportDirectory``: content and links, privacy kept."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def content(self, report_id: str, node_code: str) -> ReportContent | None:
        """The report as ``node_code`` may see it; None when it is confidential and the
        node is not involved in it (or there is no such report).

        Who is involved is the report's own record of it (``involvement``). The
        content never holds reporter identity.
        """
        try:
            rid = uuid.UUID(report_id)
        except ValueError:
            return None
        row = await self._db.fetchrow("directory_content", rid, node_code)
        if row is None:
            return None
        return ReportContent(
            report_id=str(row["id"]),
            title=row["title"],
            content=row["content"],
            kind=ReportKind(row["kind"]),
            region_code=row["region_code"],
            topic_id=row["topic_id"],
            institution_code=row["institution_code"],
            privacy=PrivacyFlags(row["anonymous"], row["confidential"]),
            location=row["location"],
            latitude=row["latitude"],
            longitude=row["longitude"],
        )

    async def link(self, report_id: str, node_code: str, external_id: str) -> None:
        """Records the node's own id for the report; linking twice is harmless."""
        await self._db.execute("link_external_ref", node_code, external_id, uuid.UUID(report_id))

    async def external_id(self, report_id: str, node_code: str) -> str | None:
        """The node's id for the report, if the hub has linked one."""
        found: str | None = await self._db.fetchval(
            "external_id_of_report", node_code, uuid.UUID(report_id)
        )
        return found


@dataclass(slots=True)
class PullStats:
    """What one node's pulls did, since the ingest started."""

    pages: int = 0
    changes: int = 0
    submitted: int = 0
    moved: int = 0
    unchanged: int = 0
    reviewed: int = 0
    last_error: str | None = None


@dataclass(slots=True)
class Ingest:
    """Applies pulled changes; one instance serves every node."""

    db: Database
    service: ReportService
    federation: Federation
    clock: Callable[[], datetime] = _now
    stats: dict[str, PullStats] = field(default_factory=dict)
    bulk: bool = True
    """Import a node's first pull (no watermark yet) set-wise, see ``hub.ingest.initial``."""
    only: frozenset[str] | None = None
    """The nodes this process pulls (``worker --nodes``); None: every node that is pulled."""
    initial: InitialSync = field(init=False)
    locks: NodeLocks = field(init=False)
    """The nodes this process pulls now: each node in one process at a time."""
    vocabulary: LearnedVocabulary = field(init=False)
    """The status labels admins taught the hub at the review desk."""
    voice: ReporterVoice = field(init=False)
    """The reporter's replies and ratings the nodes recorded."""

    def __post_init__(self) -> None:
        audit = AuditLog(self.db, self.clock)
        self.initial = InitialSync(self.db, self.clock, audit)
        self.voice = ReporterVoice(self.db, self.service, Ratings(self.db, audit, self.clock))
        self.vocabulary = LearnedVocabulary(self.db)
        self.locks = NodeLocks(self.db)

    def pulling(self, nodes: Iterable[str] | None = None) -> list[Connector]:
        """The connectors that pull (every kind but ``push``), optionally only ``nodes``."""
        wanted = set(nodes) if nodes is not None else None
        return [
            c
            for c in self.federation
            if c.config.kind != "push"
            and (wanted is None or c.node_code in wanted)
            and (self.only is None or c.node_code in self.only)
        ]

    async def pull_once(
        self, connector: Connector, on_page: Callable[[ChangePage], None] | None = None
    ) -> PullStats:
        """One pull cycle of one node, from its watermark to whatever is new now."""
        node = connector.node_code
        stats = self.stats.setdefault(node, PullStats())
        watermark = await self.db.fetchval("watermark_of", node)
        initial = self.bulk and watermark is None
        # One span per pass: the node's HTTP calls and the writes of what it pulled run
        # in it, so a pulled change's trace reaches every other node's write-back.
        attributes: dict[str, str | int] = {"sp4n.node": node, "sp4n.first_pull": int(initial)}
        with traces.span(f"pull {node}", attributes=attributes):
            return await self._pass(connector, watermark, initial, stats, on_page)

    async def _pass(
        self,
        connector: Connector,
        watermark: str | None,
        initial: bool,
        stats: PullStats,
        on_page: Callable[[ChangePage], None] | None,
    ) -> PullStats:
        node = connector.node_code
        cancelled = False
        try:
            async for pulled in connector.pull(watermark):
                page = await self.vocabulary.teach(node, pulled)
                if initial:
                    await self._import(node, page, stats)
                else:
                    for change in page.changes:
                        await self.apply(change, stats)
                    await self.db.execute(
                        "upsert_watermark", node, page.watermark, self.clock(), len(page.changes)
                    )
                stats.pages += 1
                stats.changes += len(page.changes)
                if on_page is not None:
                    on_page(page)
        except asyncio.CancelledError:
            cancelled = True  # stopping: the next pull refreshes what this one deferred
            raise
        finally:
            if not cancelled:
                # The roll-ups an import deferred, also those an interrupted pull left.
                await self.initial.refresh_rollups(node)
        return stats

    async def close(self) -> None:
        """Stops the background work of initial imports and lets go of the nodes
        (call after the pulls ended)."""
        await self.initial.stop()
        await self.locks.close()

    async def _import(self, node: str, page: ChangePage, stats: PullStats) -> None:
        """One page of a first pull: new reports set-wise, the rest change by change."""
        result = await self.initial.import_page(node, page)
        plan = result.plan
        stats.submitted += plan.submitted
        stats.moved += plan.moved
        stats.unchanged += plan.unchanged + result.unchanged_known
        stats.reviewed += plan.reviewed
        if result.watermark_written:
            return
        for change in result.voiced:
            await self._hear_imported(change, stats)
        for change in result.leftovers:
            await self.apply(change, stats)
        await self.db.execute(
            "upsert_watermark", node, page.watermark, self.clock(), len(page.changes)
        )

    async def run_node(self, connector: Connector, stop: asyncio.Event) -> None:
        """Pulls one node every ``poll_interval`` until ``stop``, while no other
        process pulls it (``NodeLocks``); a failing node only logs."""
        node = connector.node_code
        database = Outage(f"pulls from node {node}: PostgreSQL", logger=_log)
        while not stop.is_set():
            try:
                if await self.locks.hold(node):
                    await self.pull_once(connector)
                database.recovered()
            except ConnectorError as error:
                self.stats.setdefault(node, PullStats()).last_error = str(error)
                wait = connector.config.poll_interval
                _log.warning("pull from node %s failed: %s; next try in %ss", node, error, wait)
            except Exception as error:  # a bug or a database outage: log, keep this node going
                self.stats.setdefault(node, PullStats()).last_error = str(error)
                if is_outage(error):
                    database.failed(error)  # a line now and then; the next poll tries again
                else:
                    _log.exception("pull from node %s failed unexpectedly", node)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), connector.config.poll_interval)

    async def run(self, stop: asyncio.Event, nodes: Iterable[str] | None = None) -> None:
        """Every pulling node's loop, side by side, until ``stop``."""
        async with asyncio.TaskGroup() as group:
            for connector in self.pulling(nodes):
                group.create_task(
                    self.run_node(connector, stop), name=f"pull-{connector.node_code}"
                )

    async def apply(self, change: ExternalChange, stats: PullStats | None = None) -> None:
        """Makes the index reflect one change, or queues it for review.

        A report someone else changed meanwhile (a version conflict) is read again
        and the change applied anew, a few times.
        """
        stats = stats if stats is not None else self.stats.setdefault(change.node, PullStats())
        for _attempt in range(3):
            try:
                await self._apply_once(change, stats)
                return
            except VersionConflict:
                continue
        raise VersionConflict(
            f"node {change.node} report {change.external_id} kept changing under the pull"
        )

    async def _apply_once(self, change: ExternalChange, stats: PullStats) -> None:
        actor = Actor(change.node, ActorRole.NODE_SYSTEM, everywhere=True)
        row = await self.db.fetchrow("report_by_ref", change.node, change.external_id)
        if row is None and change.hub_report_id is not None:
            row = await self._adopt(change)
        report = ReportRow.from_record(row) if row is not None else None
        if report is None:
            if change.topic_id is None:
                await self._review(change, f"unmapped topic {change.raw_topic!r}", None, stats)
                return
            try:
                report = await self.service.execute(
                    submit_for(change), actor, idempotency_key=change.idempotency_key
                )
            except BadInput as error:
                await self._review(change, f"cannot submit: {error.message}", None, stats)
                return
            stats.submitted += 1
        # The reporter's replies before the state moves when the report takes them
        # now (the reply came before the node moved on), the rest after the moves.
        report = await self.voice.replies(report, change, actor, None)
        report = await self._move(report, change, stats, actor, known=row is not None)
        await self._hear(report, change, stats, actor)

    async def _hear(
        self, report: ReportRow, change: ExternalChange, stats: PullStats, actor: Actor
    ) -> None:
        """The reporter's replies and rating the node shows, recorded once (ReporterVoice);
        what the life cycle does not let in is held for review."""
        report = await self.voice.replies(report, change, actor, self._holder(report, stats))
        await self.voice.rating(report, change, actor, self._holder(report, stats))

    async def _hear_imported(self, change: ExternalChange, stats: PullStats) -> None:
        """``_hear`` for a report a first pull has just imported set-wise. A version
        conflict fails the page before its watermark: the next pull hands the report
        to the per-change path, which records what is missing."""
        row = await self.db.fetchrow("report_by_ref", change.node, change.external_id)
        if row is not None:
            actor = Actor(change.node, ActorRole.NODE_SYSTEM, everywhere=True)
            await self._hear(ReportRow.from_record(row), change, stats, actor)

    def _holder(
        self, report: ReportRow, stats: PullStats
    ) -> Callable[[ExternalChange, str], Awaitable[None]]:
        async def hold(change: ExternalChange, reason: str) -> None:
            await self._review(change, reason, report.id, stats)

        return hold

    async def _move(
        self, report: ReportRow, change: ExternalChange, stats: PullStats, actor: Actor,
        *, known: bool,
    ) -> ReportRow:  # fmt: skip
        """The report moved to the state the node shows (or held for review); returns it."""
        current = report.state
        if current in change.agrees_with:
            stats.unchanged += 1
            return report
        if known and await self._behind(report.id, change):
            stats.unchanged += 1
            return report
        if change.state is None:
            await self._review(change, f"unmapped status {change.raw_state!r}", report.id, stats)
            return report
        verbs = verbs_between(current, change.state)
        if verbs is None:
            reason = f"no move from {current.value} to {change.state.value}"
            await self._review(change, reason, report.id, stats)
            return report
        for verb in verbs:
            try:
                command = transition_for(verb, report.id, change)
                report = await self.service.execute(
                    command,
                    actor,
                    idempotency_key=f"{change.idempotency_key}-{verb.value.lower()}",
                    expected_version=report.version,
                )
            except (InvalidTransition, BadInput) as error:
                await self._review(change, f"{verb.value}: {error.message}", report.id, stats)
                return report
        stats.moved += 1
        return report

    async def _adopt(self, change: ExternalChange) -> asyncpg.Record | None:
        """A report the hub created at the node, not linked yet (a crash between the
        creation and the link, or a pull racing the write-back): linked now, so it is
        not submitted a second time. None when the reference names no hub report."""
        try:
            report_id = uuid.UUID(str(change.hub_report_id))
        except ValueError:
            return None
        await self.db.execute("link_hub_created", change.node, change.external_id, report_id)
        return await self.db.fetchrow("report_by_ref", change.node, change.external_id)

    async def _behind(self, report_id: uuid.UUID, change: ExternalChange) -> bool:
        """Whether the node shows a state it held since its last own change, its own or
        one the hub wrote to it: the hub's write-backs have not caught up with it yet (or
        echo an older one). A state the hub never sent it is news (a decline).

        Ordering by the node's clock cannot tell this apart from news, since a
        late write-back is stamped late; the report's history can.
        """
        rows = await self.db.fetch("states_since_node_change", report_id, change.node)
        held = {ReportState(r["to_state"]) for r in rows}
        return bool(held & change.agrees_with)

    async def _review(
        self,
        change: ExternalChange,
        reason: str,
        report_id: uuid.UUID | None,
        stats: PullStats,
    ) -> None:
        queued = await self.db.fetchval(
            "enqueue_review",
            change.node,
            change.external_id,
            change.external_version,
            change.raw_state,
            reason,
            report_id,
        )
        if queued is None:
            return  # held already: a later poll showing it again is not news
        _log.info("node %s report %s to review: %s", change.node, change.external_id, reason)
        stats.reviewed += 1
