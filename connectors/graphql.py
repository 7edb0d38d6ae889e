"""Regency GraphQL APIs, described by a small mapping in the node table.

The node table gives the operations as GraphQL documents, written against the
regency's own schema, and the field map. Variable names are the contract:

- ``changes_query``: ``$since`` (the cursor watermark, null at first) and
  ``$first``; ``changes_path`` points at an object holding the records
  (``items_field``), the next cursor (``cursor_field``) and ``has_more_field``.
- ``apply_mutation``: ``$id``, ``$status``, ``$note``, ``$eventId``,
  ``$version``, ``$institution``. The node keys on ``$eventId`` so a repeated
  write is a no-op.
- ``create_mutation`` (optional): ``$reportId``, ``$title``, ``$content``,
  ``$kind``, ``$category``, ``$region``, ``$institution``, ``$anonymous``,
  ``$confidential``, ``$location``; the new id is at ``created_id_path``. A
  document declaring ``$status`` also gets ``$note``, ``$eventId`` and ``$version``
  and creates the report in that state in one call (no ``apply_mutation`` follows,
  so a change the node's staff make to the new report stands); otherwise the state
  is written by a second call.
- ``attachments_query`` (optional): ``$ids``; a list at ``attachments_path`` of
  objects with the report id (``id``) and its attachments (``attachments_field``).
- ``lookup_query`` (optional): ``$id`` (the node's id, or null) and ``$reportId``
  (the hub's reference, looked up when ``$id`` is null); the report, or null, at
  ``lookup_path``, read with the field map, with the event ids the node applied
  in the list ``events_field`` (each at ``event_field``) if the node has one.

Mutations carry the event id (for a creation ``creation_key``) as an
``Idempotency-Key`` header too, for a node that keys requests rather than fields.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any, TypeVar

from connectors.base import BaseConnector, creation_key, state_note
from connectors.change import (
    ChangePage,
    ExternalChange,
    FetchResult,
    LiveRecord,
    NodeReport,
    ReportContent,
)
from connectors.config import NodeConfig
from connectors.errors import MalformedPayload, NodeRejected, NotSupported
from connectors.http import HttpNode
from connectors.options import Options
from connectors.payload import Item, as_list
from connectors.protocol import Dependencies
from connectors.records import (
    build_attachment,
    build_change,
    build_node_report,
    event_ids,
    field_map,
)
from schema.events import ReportEvent

T = TypeVar("T")
_DECLARES_STATUS = re.compile(r"\$status\s*:")
_ATTACHMENT_FIELDS = {"ref": "id", "name": "nama", "media_type": "jenis", "url": "url"}


class GraphQLConnector(BaseConnector):
    """A node with its own GraphQL API."""

    http: HttpNode

    def __init__(self, config: NodeConfig, deps: Dependencies) -> None:
        super().__init__(config, deps)
        o = Options(config.code, config.options)
        self.fields = field_map(config.code, o.table("fields"))
        self.changes_query = o.text("changes_query")
        self.changes_path = o.text("changes_path")
        self.items_field = o.text("items_field", "nodes")
        self.cursor_field = o.text("cursor_field", "endCursor")
        self.has_more_field = o.text("has_more_field", "hasNextPage")
        self.page_size = o.integer("page_size", 100, high=1000)
        self.apply_mutation = o.text("apply_mutation")
        self.create_mutation = o.opt_text("create_mutation")
        self.creates_with_state = self.create_mutation is not None and bool(
            _DECLARES_STATUS.search(self.create_mutation)
        )
        self.created_id_path = o.text("created_id_path", "buatAduan.id")
        self.attachments_query = o.opt_text("attachments_query")
        self.attachments_path = o.text("attachments_path", "aduan")
        self.attachments_field = o.text("attachments_field", "lampiran")
        self.attachment_fields = o.table("attachment_fields", _ATTACHMENT_FIELDS)
        self.ping_query = o.text("ping_query", "{ __typename }")
        self.lookup_query = o.opt_text("lookup_query")
        self.lookup_path = o.text("lookup_path", "cariAduan")
        self.events_field = o.opt_text("events_field")
        self.event_field = o.text("event_field", "idPeristiwa")
        o.finish()
        self.http = self.http_node()

    async def _execute(
        self,
        what: str,
        document: str,
        variables: Mapping[str, object],
        parse: Callable[[Item], T],
        key: str | None = None,
    ) -> T:
        """Runs one operation; ``parse`` reads ``data`` inside the guarded attempt.
        ``key``: the mutation's idempotency key, sent as ``Idempotency-Key``."""

        def read(body: object) -> T:
            envelope = Item(self.node_code, what, body)
            errors = envelope.raw("errors")
            if errors:
                first = as_list(self.node_code, f"{what}.errors", errors)[0]
                message = first.get("message") if isinstance(first, Mapping) else first
                raise NodeRejected(self.node_code, f"{what}: GraphQL error: {message}")
            if envelope.raw("data") is None:
                raise MalformedPayload(self.node_code, f"{what}.data", "is missing")
            return parse(Item(self.node_code, f"{what}.data", envelope.raw("data")))

        body = {"query": document, "variables": dict(variables)}
        headers = {"Idempotency-Key": key} if key is not None else None
        return await self.http.read(
            "POST", "", what=what, json_body=body, parse=read, headers=headers
        )

    async def ping(self) -> None:
        await self._execute("ping", self.ping_query, {}, _ignore)

    async def pull(self, since: str | None) -> AsyncIterator[ChangePage]:
        cursor = since
        while True:
            variables = {"since": cursor, "first": self.page_size}
            changes, following, more = await self._execute(
                "changes", self.changes_query, variables, self._page
            )
            if changes and following is not None:
                yield ChangePage(changes, following)
            if not changes or not more or following == cursor:
                return
            cursor = following

    def _page(self, data: Item) -> tuple[tuple[ExternalChange, ...], str | None, bool]:
        where = f"{data.where}.{self.changes_path}"
        connection = Item(self.node_code, where, data.raw(self.changes_path))
        inner = f"{where}.{self.items_field}"
        items = as_list(self.node_code, inner, connection.raw(self.items_field))
        changes = tuple(self._change(f"{inner}[{i}]", raw) for i, raw in enumerate(items))
        following = connection.opt_text(self.cursor_field)
        if changes and following is None:
            raise MalformedPayload(self.node_code, f"{where}.{self.cursor_field}", "is missing")
        return changes, following, connection.flag(self.has_more_field)

    def _change(self, where: str, raw: object) -> ExternalChange:
        return build_change(self.config, Item(self.node_code, where, raw), self.fields)

    async def write_state(self, external_id: str, event: ReportEvent) -> None:
        await self._execute(
            "apply",
            self.apply_mutation,
            {
                "id": external_id,
                "status": self.config.status.to_external(event.state),
                "note": state_note(event),
                "eventId": event.event_id,
                "version": event.version,
                "institution": event.institution_codes[-1] if event.institution_codes else None,
            },
            _ignore,
            key=event.event_id,
        )

    async def create(self, content: ReportContent, event: ReportEvent) -> str:
        if self.create_mutation is None:
            return await super().create(content, event)
        variables: dict[str, Any] = {
            "reportId": content.report_id, "title": content.title, "content": content.content,
            "kind": content.kind.value, "category": self.category_for(content.topic_id),
            "region": content.region_code, "institution": content.institution_code,
            "anonymous": content.privacy.anonymous, "confidential": content.privacy.confidential,
            "location": content.location,
            "status": self.config.status.to_external(event.state), "note": state_note(event),
            "eventId": event.event_id, "version": event.version,
        }  # fmt: skip
        id_path = self.created_id_path
        return await self._execute(
            "create",
            self.create_mutation,
            variables,
            lambda data: data.text(id_path),
            key=creation_key(content.report_id),
        )

    async def find(self, event: ReportEvent, external_id: str | None) -> NodeReport | None:
        if self.lookup_query is None:
            raise NotSupported(self.node_code, "options.lookup_query is not configured")
        variables = {"id": external_id, "reportId": event.report_id}
        return await self._execute("lookup", self.lookup_query, variables, self._looked_up)

    def _looked_up(self, data: Item) -> NodeReport | None:
        raw = data.raw(self.lookup_path)
        if raw is None:
            return None
        item = Item(self.node_code, f"{data.where}.{self.lookup_path}", raw)
        events = None
        if self.events_field is not None:
            events = event_ids(item, self.events_field, self.event_field)
        return build_node_report(item, self.fields, events)

    async def fetch(self, refs: Sequence[str]) -> FetchResult:
        if self.attachments_query is None or not refs:
            return FetchResult({}, frozenset(refs))
        records = await self._execute(
            "attachments", self.attachments_query, {"ids": list(refs)}, self._live_records
        )
        return FetchResult(records, frozenset(refs) - set(records))

    def _live_records(self, data: Item) -> dict[str, LiveRecord]:
        where = f"{data.where}.{self.attachments_path}"
        records: dict[str, LiveRecord] = {}
        for i, raw in enumerate(as_list(self.node_code, where, data.raw(self.attachments_path))):
            report = Item(self.node_code, f"{where}[{i}]", raw)
            inner = f"{report.where}.{self.attachments_field}"
            entries = as_list(self.node_code, inner, report.raw(self.attachments_field) or [])
            attachments = tuple(
                build_attachment(
                    Item(self.node_code, f"{inner}[{j}]", entry), self.attachment_fields
                )
                for j, entry in enumerate(entries)
            )
            records[report.text("id")] = LiveRecord(report.text("id"), attachments)
        return records


def _ignore(_: Item) -> None:
    return None
