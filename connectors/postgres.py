"""Nodes that only offer their database, read through asyncpg.

The mapping is SQL in the node table: ``changes_query`` takes ``$1`` (the
watermark text, NULL at first) and ``$2`` (the page size) and returns columns
named after the canonical fields (see records.py) plus a ``watermark`` column,
ordered by it; a ``replies`` column (json: a list of objects with ``reply_id`` and
``reply_content``) and ``rating_score``/``rating_comment`` columns bring the
reporter's voice given in the node's app. Write-back runs ``apply_query`` with
``$1`` external id, ``$2`` status label, ``$3`` note, ``$4`` event id, ``$5``
version, ``$6`` institution; the statement should skip an event id it has already applied.
``create_query`` (optional) inserts a report the hub sends, idempotent on ``$1``
(the hub's report id), with ``$2`` title, ``$3`` content, ``$4`` kind, ``$5``
category, ``$6`` region, ``$7`` institution, ``$8`` anonymous, ``$9``
confidential, ``$10`` location, and the event's whole write: ``$11`` status label,
``$12`` note, ``$13`` event id, ``$14`` version; it returns the node's id. One
statement, so no ``apply_query`` follows and a change the node's staff make to the
new row stands. A ``create_query`` of the earlier form, ending at ``$11`` (the status
label alone), still works: ``apply_query`` then writes the event after it.
``attachments_query`` takes ``$1`` (the ids, text[]) and returns one row per
attachment plus one with a NULL ``ref`` for a known report without any.
``find_query`` (for reconciling a write-back whose outcome the hub did not
record) takes ``$1`` (the hub's report id) and ``$2`` (the node's id, NULL when
the hub has none) and returns at most one row: ``external_id``, ``raw_state``,
``institution``, ``note`` and ``events`` (the event ids applied, text[]).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, TypeVar

import asyncpg

from connectors.base import BaseConnector, state_note
from connectors.change import (
    Attachment,
    ChangePage,
    FetchResult,
    LiveRecord,
    NodeReport,
    ReportContent,
)
from connectors.config import NodeConfig
from connectors.errors import (
    ConnectorError,
    MalformedPayload,
    NodeRejected,
    NodeTableError,
    NodeUnavailable,
    NotSupported,
)
from connectors.options import Options
from connectors.payload import Item
from connectors.protocol import Dependencies
from connectors.records import (
    OPTIONAL,
    REQUIRED,
    build_attachment,
    build_change,
    build_node_report,
)
from schema.events import ReportEvent

T = TypeVar("T")
_FIELDS = {name: name for name in (*REQUIRED, *OPTIONAL)}
_ATTACHMENT_FIELDS = {f: f for f in ("ref", "name", "media_type", "url", "size")}
# SQLSTATE classes that mean "the server, not the statement": connection
# trouble, resources, operator intervention, serialization failure.
_TRANSIENT = ("08", "53", "57", "40")
_PARAMETER = re.compile(r"\$(\d+)")
_CREATE_FORMS = {11: False, 14: True}
"""A ``create_query``'s last parameter -> whether it writes the event with the row."""


def _last_parameter(node: str, create_query: str | None) -> int:
    """The highest ``$n`` of a ``create_query``: one of its two forms, or a table error
    that says which parameters it may take."""
    if create_query is None:
        return 0
    last = max((int(n) for n in _PARAMETER.findall(create_query)), default=0)
    if last not in _CREATE_FORMS:
        raise NodeTableError(
            node,
            f"options.create_query ends at ${last}: it takes $1-$14 (the report in its "
            "state, the event written with it) or, the earlier form, $1-$11 (the report "
            "and its status label; apply_query writes the event after it)",
        )
    return last


class PostgresConnector(BaseConnector):
    """A node whose system is a PostgreSQL database we may query."""

    def __init__(self, config: NodeConfig, deps: Dependencies) -> None:
        super().__init__(config, deps)
        o = Options(config.code, config.options)
        self.changes_query = o.text("changes_query")
        self.apply_query = o.text("apply_query")
        self.create_query = o.opt_text("create_query")
        self.create_parameters = _last_parameter(config.code, self.create_query)
        self.creates_with_state = _CREATE_FORMS.get(self.create_parameters, False)
        self.attachments_query = o.opt_text("attachments_query")
        self.find_query = o.opt_text("find_query")
        self.page_size = o.integer("page_size", 500, high=10_000)
        o.finish()
        if not config.url or not config.url.startswith(("postgres://", "postgresql://")):
            raise NodeTableError(
                config.code, f"url must be a postgresql:// DSN, got {config.url!r}"
            )
        self.dsn = config.url
        self.password = config.credentials.value if config.credentials else None
        self._pool: asyncpg.Pool[asyncpg.Record] | None = None

    async def start(self) -> None:
        if self._pool is None:
            # min_size=0: starting opens no connection, so a node that is down
            # never stops the hub from starting.
            self._pool = await asyncpg.create_pool(
                self.dsn,
                password=self.password,
                min_size=0,
                max_size=self.config.resilience.concurrency,
                server_settings={"application_name": "sp4n-hub-connector"},
            )

    async def stop(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    async def _run(self, what: str, work: Callable[[Any], Awaitable[T]]) -> T:
        """Runs ``work`` on a pooled connection under the Guard, wrapping asyncpg errors."""

        async def once() -> T:
            if self._pool is None:
                raise RuntimeError(f"connector for node {self.node_code} is not started")
            try:
                async with self._pool.acquire() as conn:
                    return await work(conn)
            except asyncpg.PostgresError as error:
                state = getattr(error, "sqlstate", "") or ""
                if state.startswith(_TRANSIENT):
                    raise NodeUnavailable(self.node_code, f"{what}: {error}") from None
                raise NodeRejected(self.node_code, f"{what}: SQLSTATE {state}: {error}") from None
            except (OSError, asyncpg.InterfaceError) as error:
                raise NodeUnavailable(
                    self.node_code, f"{what}: {type(error).__name__}: {error}"
                ) from None

        return await self.guard.call(what, once)

    async def ping(self) -> None:
        await self._run("ping", lambda conn: conn.fetchval("SELECT 1"))

    async def pull(self, since: str | None) -> AsyncIterator[ChangePage]:
        watermark = since
        while True:
            page = await self._page(watermark)
            if page is None:
                return
            yield page
            watermark = page.watermark
            if len(page.changes) < self.page_size:
                return

    async def _page(self, watermark: str | None) -> ChangePage | None:
        query, size = self.changes_query, self.page_size

        async def work(conn: Any) -> ChangePage | None:
            # Parsed inside the guarded attempt, so a malformed row counts against the node.
            return self._parse([dict(r) for r in await conn.fetch(query, watermark, size)])

        return await self._run("changes query", work)

    def _parse(self, rows: list[dict[str, object]]) -> ChangePage | None:
        if not rows:
            return None
        changes = []
        for i, row in enumerate(rows):
            missing = [f for f in (*REQUIRED, "watermark") if f not in row]
            if missing:
                raise NodeTableError(
                    self.node_code, f"options.changes_query returns no column {missing[0]}"
                )
            fields = {k: v for k, v in _FIELDS.items() if k in row}
            if "replies" in row:
                row["replies"] = self._replies(i, row["replies"])
                fields |= {"reply_id": "reply_id", "reply_content": "reply_content"}
            changes.append(
                build_change(self.config, Item(self.node_code, f"row[{i}]", row), fields)
            )
        last = Item(self.node_code, f"row[{len(rows) - 1}]", rows[-1])
        return ChangePage(tuple(changes), last.text("watermark"))

    def _replies(self, index: int, value: object) -> object:
        """A ``replies`` column as the driver hands it: json(b) arrives as text."""
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise MalformedPayload(self.node_code, f"row[{index}].replies", "is not JSON") from None

    async def write_state(self, external_id: str, event: ReportEvent) -> None:
        args = (
            external_id,
            self.config.status.to_external(event.state),
            state_note(event),
            event.event_id,
            event.version,
            event.institution_codes[-1] if event.institution_codes else None,
        )
        await self._run("apply query", lambda conn: conn.execute(self.apply_query, *args))

    async def create(self, content: ReportContent, event: ReportEvent) -> str:
        if self.create_query is None:
            return await super().create(content, event)
        query = self.create_query
        args = (
            content.report_id, content.title, content.content, content.kind.value,
            self.category_for(content.topic_id), content.region_code, content.institution_code,
            content.privacy.anonymous, content.privacy.confidential, content.location,
            self.config.status.to_external(event.state), state_note(event), event.event_id,
            event.version,
        )[: self.create_parameters]  # fmt: skip
        value = await self._run("create query", lambda conn: conn.fetchval(query, *args))
        if value is None:
            raise ConnectorError(self.node_code, "options.create_query returned no external_id")
        return str(value)

    async def find(self, event: ReportEvent, external_id: str | None) -> NodeReport | None:
        if self.find_query is None:
            raise NotSupported(self.node_code, "options.find_query is not configured")
        query = self.find_query
        row = await self._run(
            "find query", lambda conn: conn.fetchrow(query, event.report_id, external_id)
        )
        if row is None:
            return None
        item = Item(self.node_code, "row", dict(row))
        events = item.raw("events")
        applied = frozenset(str(e) for e in events) if isinstance(events, list) else None
        return build_node_report(item, _FIELDS, applied)

    async def fetch(self, refs: Sequence[str]) -> FetchResult:
        if self.attachments_query is None or not refs:
            return FetchResult({}, frozenset(refs))
        query = self.attachments_query
        rows = await self._run("attachments query", lambda conn: conn.fetch(query, list(refs)))
        found: dict[str, list[Attachment]] = {}
        for i, row in enumerate(rows):
            item = Item(self.node_code, f"row[{i}]", dict(row))
            attachments = found.setdefault(item.text("external_id"), [])
            # A NULL ref is a known report without attachments (see the query's contract).
            if item.raw("ref") is not None:
                attachments.append(build_attachment(item, _ATTACHMENT_FIELDS))
        records = {ref: LiveRecord(ref, tuple(found[ref])) for ref in refs if ref in found}
        return FetchResult(records, frozenset(refs) - set(records))
