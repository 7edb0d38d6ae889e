"""Applies domain commands: the one write path for every change.

Each command runs in one PostgreSQL transaction that updates the report,
appends its history and appends an outbox row. A failed check raises before
anything is written, and the transaction rolls back whatever was.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import asyncpg

from hub.audit import AuditLog
from hub.domain.commands import (
    Actor,
    Archive,
    Command,
    Dispose,
    FollowUp,
    Submit,
    Transition,
    Verify,
    fingerprint,
    validate,
    validate_key,
)
from hub.errors import (
    BadInput,
    HubError,
    IdempotencyConflict,
    InvalidTransition,
    NotFound,
    VersionConflict,
)
from hub.store.connection import Connection
from hub.store.database import Database
from hub.store.rows import ReportRow
from hub.sync.envelope import encode
from schema.events import ExternalRef, ReportEvent
from schema.lifecycle import TRANSITIONS, VERBS, ReportState, Verb, can_apply
from schema.regions import PROVINCE_CODE
from schema.report import PrivacyFlags, ReportKind
from schema.sla import CURRENT_SLA_VERSION


def _now() -> datetime:
    return datetime.now(UTC)


def default_institution(region_code: str) -> str:
    """The government that receives a report when the reporter names none."""
    return "pemprov-16" if region_code == PROVINCE_CODE else f"pemda-{region_code}"


class ReportService:
    """Executes commands against the index, one transaction each."""

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
        sql = self._db.sql
        async with self._db.pool.acquire() as conn, conn.transaction():
            if key is not None:
                seen = await conn.fetchrow(sql["idempotency_lookup"], actor.node_code, key)
                if seen is not None:
                    if seen["request_hash"] != request_hash:
                        raise IdempotencyConflict(
                            f"idempotencyKey {key!r} was already used for a different request"
                        )
                    row = await conn.fetchrow(sql["report_by_id"], seen["report_id"])
                    assert row is not None
                    return ReportRow.from_record(row)
            if isinstance(command, Submit):
                report = await self._submit(conn, command, actor)
            else:
                assert expected_version is not None
                report = await self._transition(conn, command, actor, expected_version)
            if key is not None:
                await conn.execute(
                    sql["idempotency_record"],
                    actor.node_code,
                    key,
                    request_hash,
                    report.id,
                    report.version,
                )
            # Last, in the same transaction: the change and its audit entry stand or fall
            # together, and the chain's lock is held only until the commit.
            await self._audit.record(
                client_id=actor.client_id,
                node_code=actor.node_code,
                action=command.verb.value,
                report_id=report.id,
                outcome="OK",
                conn=conn,
            )
            return report

    async def _submit(self, conn: Connection, c: Submit, actor: Actor) -> ReportRow:
        sql = self._db.sql
        institution = c.institution_code or default_institution(c.region_code)
        found = await conn.fetchrow(
            sql["check_references"], c.region_code, c.topic_id, institution, actor.node_code
        )
        assert found is not None
        for name, value, ok in (
            ("regionCode", c.region_code, found["region"]),
            ("topicId", c.topic_id, found["topic"]),
            ("institutionCode", institution, found["institution"]),
            ("actor node", actor.node_code, found["node"]),
        ):
            if not ok:
                raise BadInput(f"{name} {value!r} is not known to the hub")
        if c.external_node is not None and not await conn.fetchval(
            sql["node_exists"], c.external_node
        ):
            raise BadInput(f"externalRef.node {c.external_node!r} is not a federation node")
        now = self._clock()
        report_id = uuid.uuid4()
        await conn.execute(
            sql["insert_report"],
            report_id,
            c.kind.value,
            c.complaint_sub_kind.value if c.complaint_sub_kind else None,
            c.title.strip(),
            c.content.strip(),
            c.incident_date,
            c.location,
            c.latitude,
            c.longitude,
            c.topic_id,
            list(c.tags),
            c.channel.value,
            c.privacy.anonymous,
            c.privacy.confidential,
            actor.node_code,
            c.region_code,
            institution,
            ReportState.SUBMITTED.value,
            CURRENT_SLA_VERSION,
            now,
        )
        if c.reporter is not None:
            r = c.reporter
            await conn.execute(sql["insert_reporter"], report_id, r.name, r.nik, r.phone, r.email)
        if c.external_node is not None:
            try:
                async with conn.transaction():
                    await conn.execute(
                        sql["insert_external_ref"], c.external_node, c.external_id, report_id
                    )
            except asyncpg.UniqueViolationError:
                raise BadInput(
                    f"externalRef ({c.external_node}, {c.external_id}) already names a report"
                ) from None
        row = await conn.fetchrow(sql["report_by_id"], report_id)
        assert row is not None
        report = ReportRow.from_record(row)
        await self._record(conn, report, Verb.SUBMIT, None, actor, None, [institution])
        return report

    async def _transition(
        self, conn: Connection, c: Transition, actor: Actor, expected_version: int
    ) -> ReportRow:
        sql = self._db.sql
        row = await conn.fetchrow(sql["report_for_update"], c.report_id)
        if row is None:
            raise NotFound(f"no report with id {c.report_id}")
        before = ReportRow.from_record(row)
        if not actor.everywhere:
            involved_nodes = await conn.fetchval(sql["report_nodes"], c.report_id)
            if actor.node_code not in involved_nodes:
                # The same answer as for an unknown id: no hint that it exists.
                raise NotFound(f"no report with id {c.report_id}")
        if before.version != expected_version:
            raise VersionConflict(
                f"report {c.report_id} is at version {before.version}, "
                f"not the expected {expected_version}; reload it and try again"
            )
        current = ReportState(before.state)
        if not can_apply(c.verb, current):
            allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current])) or "none"
            raise InvalidTransition(
                f"cannot {c.verb.value.lower().replace('_', ' ')} a report that is "
                f"{current.value} ({current.label}); moves allowed from {current.value}: {allowed}"
            )
        now = self._clock()
        target = VERBS[c.verb].target
        institution = before.institution_code
        privacy = PrivacyFlags(before.anonymous, before.confidential)
        archive_reason = None
        links = await conn.fetch(sql["disposition_chain"], c.report_id)
        # Every institution the report has been addressed to, oldest first.
        involved = [links[0]["from_institution"] if links else institution]
        involved += [link["to_institution"] for link in links]
        note = getattr(c, "note", None)
        match c:
            case Verify(privacy=requested) if requested is not None:
                if privacy.loosens(requested):
                    raise BadInput(
                        "privacy flags can only be tightened; loosening needs the reporter"
                    )
                privacy = privacy.tightened(requested)
            case Dispose():
                if not await conn.fetchval(sql["institution_exists"], c.institution_code):
                    raise BadInput(
                        f"institutionCode {c.institution_code!r} is not known to the hub"
                    )
                await conn.execute(
                    sql["insert_disposition"],
                    c.report_id,
                    len(links) + 1,
                    institution,
                    c.institution_code,
                    c.note,
                    actor.node_code,
                    now,
                )
                institution = c.institution_code
                involved.append(institution)
            case FollowUp():
                await conn.execute(
                    sql["insert_follow_up"],
                    c.report_id,
                    institution,
                    c.content,
                    actor.node_code,
                    now,
                )
            case Archive():
                archive_reason = c.reason.value
        version = before.version + 1
        await conn.execute(
            sql["update_report"],
            c.report_id,
            target.value,
            version,
            institution,
            archive_reason,
            privacy.anonymous,
            privacy.confidential,
            now,
        )
        after = await conn.fetchrow(sql["report_by_id"], c.report_id)
        assert after is not None
        report = ReportRow.from_record(after)
        await self._record(conn, report, c.verb, current, actor, note, involved)
        return report

    async def _record(
        self,
        conn: Connection,
        report: ReportRow,
        verb: Verb,
        previous: ReportState | None,
        actor: Actor,
        note: str | None,
        institutions: list[str],
    ) -> None:
        """Appends the history row and the outbox event of one change."""
        sql = self._db.sql
        now = report.updated_at
        await conn.execute(
            sql["insert_history"],
            report.id,
            report.version,
            verb.value,
            previous.value if previous else None,
            report.state,
            actor.node_code,
            actor.role.value,
            note,
            now,
        )
        refs = await conn.fetch(sql["external_refs_of_report"], report.id)
        event = ReportEvent(
            event_id=str(uuid.uuid4()),
            report_id=str(report.id),
            version=report.version,
            verb=verb,
            previous_state=previous,
            state=ReportState(report.state),
            kind=ReportKind(report.kind),
            region_code=report.region_code,
            origin_node=report.origin_node,
            institution_codes=tuple(dict.fromkeys(institutions)),
            external_refs=tuple(ExternalRef(r["node_code"], r["external_id"]) for r in refs),
            occurred_at=now,
            actor_node=actor.node_code,
            actor_role=actor.role,
        )
        # Encoded once, here: the relay sends these bytes as they are.
        record = encode(event)
        await conn.execute(
            sql["insert_outbox"],
            uuid.UUID(event.event_id),
            report.id,
            report.version,
            event.type,
            record.key,
            record.value,
            [name for name, _ in record.headers],
            [value for _, value in record.headers],
        )
