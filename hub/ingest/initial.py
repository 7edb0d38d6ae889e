"""The initial import of a node: its first pull, written set-wise.

A node's first pull (no watermark yet; ``sp4n-hub sync --once`` on a fresh
index) brings every report the node holds, tens of thousands at once. Running
each through ``ReportService`` (two statements, an outbox row, an audit entry
and an idempotency key per command) manages a few hundred reports a second.
Here each page is planned in memory by ``hub.ingest.plan`` with the per-change
path's own decisions (the same command builders and validators, the same
domain core, the same review reasons), COPYed into temporary staging tables and
moved into ``reports``, ``reporters``, ``external_refs``, ``report_history``,
``dispositions``, ``follow_ups`` and ``review_queue`` with INSERT … SELECT, in
one transaction per page together with the page's watermark.

What differs from the per-change path, on purpose:

- **No outbox events.** The imported reports already exist in their node (and,
  through it, in SP4N-LAPOR!): an event per imported report would only make
  every sink write back what the nodes already hold. Changes pulled after the
  import run through the per-change path and are published as usual.
- **One audit entry per page** (action ``IMPORT``, outcome ``OK: <n> reports``),
  not one per command.
- **No idempotency keys.** The import is idempotent on the external ref
  ``(node, external id)`` (and the review queue on ``(node, external id,
  external version)``) with ON CONFLICT; a report already linked is skipped
  when its state agrees with the node, else handed to the per-change path.
- **One time per page.** Every row of a page carries the hub's time of the page.
- **The reporter's voice after the page.** Replies and a rating an imported report
  already carries at the node are recorded once its page is in, by the per-change
  path's ``ReporterVoice`` (as the node's ``Reply`` commands and rating), before the
  page's watermark; a report imported earlier whose voice may be missing (a pull
  cut short) goes through the per-change path.

- **Roll-ups beside the import, not inside each page.** A page writes no outbox
  rows, so the roll-ups' projection would not hear of its reports: its
  transaction lists them in ``ministry_pending`` instead.
  One refresher at a time (per hub) drains that list in large set-wise passes
  while the next pages are pulled and written, and ``refresh_rollups``, called
  when a node's pull ends however it ends, drains what is left of the node.
  Refreshing inside every page made the nodes' pages queue on the roll-up
  rows' locks. Meanwhile the figures lag behind the imported reports; a pending
  row outlives a crash (the node's next pull, or the projection, refreshes it),
  and a report changed meanwhile is refreshed by the projection as usual (a
  refresh recomputes the report, so a second one changes nothing).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from connectors.change import ChangePage, ExternalChange
from hub.ingest.plan import Plan, Reference, plan_page, rows_of
from hub.security.audit import AuditLog
from hub.store.connection import Session
from hub.store.database import Database
from schema.lifecycle import ReportState

_log = logging.getLogger(__name__)

AUDIT_ACTION = "IMPORT"
REFRESH_BATCH = 5000
"""Pending reports refreshed per transaction, so the roll-up rows' locks stay short."""


@dataclass(slots=True)
class PageResult:
    """What one imported page did, and the changes left to the per-change path."""

    plan: Plan
    unchanged_known: int = 0
    leftovers: list[ExternalChange] = field(default_factory=list)
    watermark_written: bool = False
    voiced: list[ExternalChange] = field(default_factory=list)
    """Changes imported set-wise whose report carries the reporter's replies or rating
    at the node: the caller records them (``ReporterVoice``), then the watermark."""


@dataclass(slots=True)
class InitialSync:
    """Imports pages of a node's first pull; one instance serves every node."""

    db: Database
    clock: Callable[[], datetime]
    audit: AuditLog
    _reference: Reference | None = None
    _refreshing: asyncio.Lock = field(default_factory=asyncio.Lock)
    _drainer: asyncio.Task[None] | None = None

    async def reference(self) -> Reference:
        if self._reference is None:
            row = await self.db.fetchrow("bulk_reference")
            assert row is not None
            self._reference = Reference(
                frozenset(row["regions"]),
                frozenset(row["topics"]),
                dict(zip(row["institutions"], row["institution_nodes"], strict=True)),
                frozenset(row["nodes"]),
            )
        return self._reference

    async def import_page(self, node: str, page: ChangePage) -> PageResult:
        """Writes the page's new reports and, when nothing is left over, its watermark.

        Leftovers (a report the hub already holds in another state, or a second
        change of one report within the page) are returned for the per-change
        path; the caller then persists the watermark after applying them.
        """
        fresh, later = _first_of_each(page.changes)
        known = {
            r["external_id"]: ReportState(r["state"])
            for r in await self.db.fetch("bulk_known_refs", node, [c.external_id for c in fresh])
        }
        unchanged_known = 0
        new: list[ExternalChange] = []
        leftovers: list[ExternalChange] = []
        for change in fresh:
            state = known.get(change.external_id)
            if state is None and change.hub_report_id is not None:
                # One the hub created there, maybe not linked yet: the per-change path
                # links it rather than importing it as a new report.
                leftovers.append(change)
            elif state is None:
                new.append(change)
            elif state in change.agrees_with and _voiced(change):
                # Imported before, but the pull may have stopped before its replies and
                # rating were recorded: the per-change path records what is missing.
                leftovers.append(change)
            elif state in change.agrees_with:
                unchanged_known += 1
            else:
                leftovers.append(change)
        now = self.clock()
        # Off the event loop: a page of thousands takes a while to plan, and the other
        # nodes' pulls (their HTTP reads have timeouts) and writes go on meanwhile.
        plan = await asyncio.to_thread(plan_page, new, await self.reference(), now)
        async with self.db.transaction() as session:
            raced, written_rows = (
                await self._write(session, node, plan, now) if new else ([], (0, 0))
            )
            if raced:
                by_id = {c.external_id: c for c in new}
                leftovers += [by_id[i] for i in raced]
            leftovers += later
            imported = {row[-1] for row in plan.reports} - set(raced)
            voiced = [c for c in new if c.external_id in imported and _voiced(c)]
            watermark = not leftovers and not voiced
            if watermark:
                await session.execute(
                    "upsert_watermark", node, page.watermark, now, len(page.changes)
                )
            if any(written_rows):  # a re-run that adds nothing leaves no trace either
                await self.audit.record(
                    client_id=None,
                    node_code=node,
                    action=AUDIT_ACTION,
                    report_id=None,
                    outcome=f"OK: {written_rows[0]} reports, {written_rows[1]} to review",
                    session=session,
                )
        if written_rows[0]:
            self._drain_in_background()
        return PageResult(plan, unchanged_known, leftovers, watermark, voiced)

    def _drain_in_background(self) -> None:
        """Starts draining ``ministry_pending`` unless a drain is already under way."""
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain(), name="initial-sync-rollups")

    async def _drain(self) -> None:
        try:
            while True:
                # A batch at a time, so a node's own refresh_rollups waits one batch at most.
                async with self._refreshing:
                    if await self._refresh_batch("bulk_refresh_any_pending") < REFRESH_BATCH:
                        return
        except Exception:  # the node's own refresh_rollups, or its next pull, tries again
            _log.exception("refreshing the roll-ups of imported reports failed")

    async def refresh_rollups(self, node: str) -> int:
        """Brings the ministry figures of the node's imported reports up to date;
        returns how many reports were refreshed (0 when none wait). It does not
        wait for the background drain of other nodes' reports."""
        total = 0
        while True:
            async with self._refreshing:
                refreshed = await self._refresh_batch("bulk_refresh_pending", node)
            total += refreshed
            if refreshed < REFRESH_BATCH:
                # The roll-ups' projection drains the same list: what it has taken but
                # not committed yet is still listed, and is current once it is gone.
                if not await self.db.fetchval("bulk_pending_of_node", node):
                    return total
                await asyncio.sleep(0.05)

    async def stop(self) -> None:
        """Stops the background drain; what it left pending waits for the next pull."""
        drainer, self._drainer = self._drainer, None
        if drainer is not None and not drainer.done():
            drainer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await drainer

    async def _refresh_batch(self, query: str, *args: object) -> int:
        return int(await self.db.fetchval(query, *args, REFRESH_BATCH) or 0)

    async def _write(
        self, session: Session, node: str, plan: Plan, now: datetime
    ) -> tuple[list[str], tuple[int, int]]:
        """Copies the plan in; returns the external ids another writer linked meanwhile
        (left out) and how many reports and review items were written."""
        await session.execute("bulk_stage")
        for table, columns, rows in rows_of(plan):
            if rows:
                await session.raw.copy_records_to_table(table, records=rows, columns=columns)
        raced = [r["external_id"] for r in await session.fetch("bulk_drop_known", node)]
        reports = await session.execute("bulk_insert_reports")
        await session.execute("bulk_insert_external_refs", node)
        await session.execute("bulk_insert_reporters")
        await session.execute("bulk_insert_dispositions", node, now)
        await session.execute("bulk_insert_follow_ups", node, now)
        await session.execute("bulk_insert_history")
        reviews = await session.execute("bulk_insert_reviews", node)
        await session.execute("bulk_pending_rollups", node)
        return raced, (_rows_of(reports), _rows_of(reviews))


def _rows_of(status: str) -> int:
    """The row count of an ``INSERT 0 <n>`` status tag."""
    return int(status.rsplit(" ", 1)[1])


def _voiced(change: ExternalChange) -> bool:
    """Whether the node shows the reporter's replies or rating with the report."""
    return bool(change.replies) or change.rating is not None


def _first_of_each(
    changes: Sequence[ExternalChange],
) -> tuple[list[ExternalChange], list[ExternalChange]]:
    """Each report's first change in the page, and its later ones (applied one by one)."""
    seen: set[str] = set()
    first: list[ExternalChange] = []
    later: list[ExternalChange] = []
    for change in changes:
        (later if change.external_id in seen else first).append(change)
        seen.add(change.external_id)
    return first, later
