"""Applies domain commands: the one write path for every change.

Each command costs two statements: one reads what the domain core decides on,
one writes what it decided (the report, its history, the outbox record, the
idempotency record and the audit entry) as a single data-modifying statement,
so a failure anywhere in it writes nothing. A failed check raises before
anything is written.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

import asyncpg

from hub import logs, traces
from hub.domain.commands import (
    Actor,
    Command,
    Dispose,
    Submit,
    Transition,
    fingerprint,
    validate,
    validate_key,
)
from hub.domain.core import (
    Current,
    Known,
    NewReport,
    decide,
    default_institution,
    duplicate_ref,
    submit,
)
from hub.errors import (
    BadInput,
    HubError,
    IdempotencyConflict,
    VersionConflict,
)
from hub.security.audit import AuditLog
from hub.store.connection import Session
from hub.store.database import Database
from hub.store.effects import indexed, report_values
from hub.store.rows import ReportRow
from schema.envelope import encode
from schema.events import ExternalRef, ReportEvent
from schema.lifecycle import ReportState, Verb
from schema.report import PrivacyFlags

_log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


class ReportService:
    """Executes commands against the index, two statements each."""

    def __init__(
        self, db: Database, clock: Callable[[], datetime] = _now, audit: AuditLog | None = None
    ) -> None:
        self._db = db
        self._clock = clock
        self._audit = audit or AuditLog(db, clock)

    async def execute(
        self,
        command: Command,
        actor: Actor,
        *,
        idempotency_key: str | None = None,
        expected_version: int | None = None,
    ) -> ReportRow:
        """Runs ``command``; a retry with the same idempotency key returns the first result."""
        validate(command)
        if idempotency_key is not None:
            validate_key(idempotency_key)
        if not isinstance(command, Submit) and expected_version is None:
            raise BadInput("expectedVersion is required")
        request_hash = fingerprint(command, expected_version)
        report_id = getattr(command, "report_id", None)
        with logs.bound(report_id=report_id):
            if not traces.on():
                row = await self._execute(
                    command, actor, idempotency_key, expected_version, request_hash
                )
            else:
                # The write's span: its record carries this span's trace context to the
                # nodes (the outbox row's ce_traceparent).
                attributes = {"sp4n.verb": command.verb.value, "sp4n.actor_node": actor.node_code}
                if report_id is not None:
                    attributes["sp4n.report_id"] = str(report_id)
                with traces.span(f"report {command.verb.value}", attributes=attributes):
                    row = await self._execute(
                        command, actor, idempotency_key, expected_version, request_hash
                    )
        if _log.isEnabledFor(logging.DEBUG):
            with logs.bound(report_id=row.id):
                _log.debug("%s by %s: version %d, %s", command.verb.value, actor.node_code,
                           row.version, row.state.value)  # fmt: skip
        return row

    async def _execute(
        self,
        command: Command,
        actor: Actor,
        idempotency_key: str | None,
        expected_version: int | None,
        request_hash: str,
    ) -> ReportRow:
        for _attempt in range(2):
            try:
                return await self._execute_once(
                    command, actor, idempotency_key, expected_version, request_hash
                )
            except asyncpg.UniqueViolationError as error:
                # Two requests with one key raced; the loser now finds the winner's result.
                if error.constraint_name != "idempotency_keys_pkey":
                    raise
            except HubError as error:
                await self._audit.record(
                    client_id=actor.client_id,
                    node_code=actor.node_code,
                    action=command.verb.value,
                    report_id=getattr(command, "report_id", None),
                    outcome=error.code,
                )
                raise
        raise RuntimeError("idempotency key raced twice")  # pragma: no cover

    async def _execute_once(
        self,
        command: Command,
        actor: Actor,
        key: str | None,
        expected_version: int | None,
        request_hash: str,
    ) -> ReportRow:
        if not isinstance(command, Submit):
            assert expected_version is not None
            return await self._transition(command, actor, key, expected_version, request_hash)
        return await self._submit(command, actor, key, request_hash)

    async def _submit(
        self, c: Submit, actor: Actor, key: str | None, request_hash: str
    ) -> ReportRow:
        """Two statements and no transaction of their own, as a transition: one reads what
        the core decides on (which references exist, an earlier answer to the key), one
        writes what it decided."""
        institution = c.institution_code or default_institution(c.region_code)
        async with self._db.session() as session:
            read = await session.fetchrow(
                "submission_read", c.region_code, c.topic_id, institution,
                actor.node_code, c.external_node, c.external_id, key,
            )  # fmt: skip
            assert read is not None
            if read["seen_hash"] is not None:
                _same_request(read["seen_hash"], request_hash, key)
                earlier = await session.fetchrow("report_by_id", read["seen_report_id"])
                assert earlier is not None
                return ReportRow.from_record(earlier)
            known = Known(
                read["region_known"], read["topic_known"], read["institution_node_code"],
                read["node_known"], read["external_node_known"], read["external_ref_taken"],
                read["institution_active"] is not False,
            )  # fmt: skip
            made = submit(c, actor, uuid.uuid4(), self._clock(), known)
            r, who = made.report, made.reporter
            event = _event(
                r, Verb.SUBMIT, None, r.state, r.version, made.institutions,
                tuple(r.nodes), made.external_refs, r.submitted_at, actor,
            )  # fmt: skip
            record = encode(event, traces.current_context())
            person = (who.name, who.nik, who.phone, who.email) if who else (None,) * 4
            ref = made.external_refs[0] if made.external_refs else None
            try:
                await session.execute(
                    "submission_write", *report_values(r), who is not None, *person,
                    ref and ref.node_code, ref and ref.external_id,
                    made.entry.verb, made.entry.actor_role,
                    uuid.UUID(event.event_id), event.type, record.key, record.value,
                    [name for name, _ in record.headers], [value for _, value in record.headers],
                    key, request_hash, actor.client_id,
                )  # fmt: skip
            except asyncpg.UniqueViolationError as error:
                # Another submission took the external id since it was read: this one's
                # own retry (then its answer is this one's), or another report.
                if error.constraint_name != "external_refs_pkey":
                    raise
                if key is not None:
                    first = await _earlier_answer(session, actor, key, request_hash)
                    if first is not None:
                        return first
                raise BadInput(duplicate_ref(c.external_node or "", c.external_id)) from None
        return indexed(r, dict(read))

    async def _transition(
        self,
        command: Transition,
        actor: Actor,
        key: str | None,
        expected_version: int,
        request_hash: str,
    ) -> ReportRow:
        """Two statements and no transaction of their own: one reads what the core decides
        on, one writes what it decided, only if the report is still at the version read."""
        target = command.institution_code if isinstance(command, Dispose) else None
        async with self._db.session() as session:
            read = await session.fetchrow(
                "transition_read", command.report_id, target, actor.node_code, key
            )
            assert read is not None
            row = ReportRow.from_record(read) if read["id"] is not None else None
            if read["seen_hash"] is not None:
                _same_request(read["seen_hash"], request_hash, key)
                assert row is not None  # the key's report is the one asked about
                return row
            current = _current(row, read) if row is not None else None
            change = decide(
                current, command, actor, expected_version,
                target_node=read["target_node_code"],
                target_active=read["target_active"] is not False,
            )  # fmt: skip
            assert row is not None
            now = self._clock()
            refs = tuple(
                ExternalRef(n, x) for n, x in zip(read["ref_nodes"], read["ref_ids"], strict=True)
            )
            event = _event(row, change.verb, change.previous, change.state, change.version,
                           change.institutions, change.nodes, refs, now, actor)  # fmt: skip
            record = encode(event, traces.current_context())
            link, follow_up = change.disposition, change.follow_up
            written = await session.fetchval(
                "transition_write",
                row.id, row.version, change.state.value, change.version,
                change.institution_code,
                change.archive_reason.value if change.archive_reason else None,
                change.privacy.anonymous, change.privacy.confidential, now,
                change.verb.value, change.previous.value, actor.node_code, actor.role.value,
                change.note,
                link.seq if link else None, link.from_institution if link else None,
                link.to_institution if link else None, link.note if link else None,
                follow_up, row.institution_code,
                uuid.UUID(event.event_id), event.type, record.key, record.value,
                [name for name, _ in record.headers], [value for _, value in record.headers],
                key, request_hash, actor.client_id, list(change.nodes),
                link is not None and link.declined, change.reply,
            )  # fmt: skip
            if not written:
                if key is not None:
                    # A request with the same key may have won the race: it was the retry.
                    earlier = await _earlier_answer(session, actor, key, request_hash)
                    if earlier is not None:
                        return earlier
                raise VersionConflict(
                    f"report {row.id} changed while this {command.verb.value} was being "
                    "decided; reload it and try again"
                )
        moved = replace(
            row,
            state=change.state,
            version=change.version,
            institution_code=change.institution_code,
            archive_reason=change.archive_reason,
            anonymous=change.privacy.anonymous,
            confidential=change.privacy.confidential,
            updated_at=now,
            nodes=list(change.nodes),
        )
        if link is not None:
            moved = replace(
                moved,
                institution_name=read["target_name"],
                institution_level=read["target_level"],
                institution_node_code=read["target_node_code"],
                institution_region_code=read["target_region_code"],
                institution_active=read["target_active"],
                institution_source=read["target_source"],
            )
        return moved


async def _earlier_answer(
    session: Session, actor: Actor, key: str, request_hash: str
) -> ReportRow | None:
    """The report as it is now, if ``key`` already answered this request; None if the
    key is new; IdempotencyConflict if it answered another request."""
    seen = await session.fetchrow("idempotency_lookup", actor.node_code, key)
    if seen is None:
        return None
    _same_request(seen["request_hash"], request_hash, key)
    row = await session.fetchrow("report_by_id", seen["report_id"])
    assert row is not None
    return ReportRow.from_record(row)


def _same_request(seen_hash: str, request_hash: str, key: str | None) -> None:
    """A key seen before must come back with the same request: it is a retry, or an error."""
    if seen_hash != request_hash:
        raise IdempotencyConflict(
            f"idempotencyKey {key!r} was already used for a different request"
        )


def _current(row: ReportRow, read: asyncpg.Record) -> Current:
    """What the core decides on, from ``transition_read``'s row."""
    first = read["chain_from"] or row.institution_code
    return Current(
        id=row.id,
        state=row.state,
        version=row.version,
        institution_code=row.institution_code,
        privacy=PrivacyFlags(row.anonymous, row.confidential),
        chain=(first, *read["chain_to"]),
        nodes=tuple(row.nodes),
    )


def _event(
    report: ReportRow | NewReport,
    verb: Verb,
    previous: ReportState | None,
    state: ReportState,
    version: int,
    institutions: tuple[str, ...],
    nodes: tuple[str, ...],
    refs: tuple[ExternalRef, ...],
    at: datetime,
    actor: Actor,
) -> ReportEvent:
    """The event of one change: ids, states and codes, never content or identity."""
    return ReportEvent(
        event_id=str(uuid.uuid4()),
        report_id=str(report.id),
        version=version,
        verb=verb,
        previous_state=previous,
        state=state,
        kind=report.kind,
        region_code=report.region_code,
        origin_node=report.origin_node,
        institution_codes=institutions,
        involved_nodes=nodes,
        external_refs=refs,
        occurred_at=at,
        actor_node=actor.node_code,
        actor_role=actor.role,
    )
