"""Domain commands: one per verb, validated before any SQL runs."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date
from typing import Any, get_args

from hub.errors import BadInput
from schema.lifecycle import Verb
from schema.report import (
    ActorRole,
    ArchiveReason,
    Channel,
    ComplaintSubKind,
    PrivacyFlags,
    ReportKind,
    validate_kind,
)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who issues a command: a federation node and the role acting for it.

    An actor acts on the reports its node is involved in (origin, region, or an
    institution of the disposition chain); ``everywhere`` is for the province's
    verifying admins and the hub's own system jobs.
    """

    node_code: str
    role: ActorRole
    client_id: str | None = None
    everywhere: bool = False


@dataclass(frozen=True, slots=True)
class Reporter:
    """Reporter identity: personal data, stored apart from the report."""

    name: str | None = None
    nik: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class Submit:
    kind: ReportKind
    title: str
    content: str
    region_code: str
    topic_id: int
    channel: Channel
    complaint_sub_kind: ComplaintSubKind | None = None
    institution_code: str | None = None
    """The target institution; None: the government of ``region_code``."""
    incident_date: date | None = None
    location: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    tags: tuple[str, ...] = ()
    privacy: PrivacyFlags = field(default_factory=PrivacyFlags)
    reporter: Reporter | None = None
    external_node: str | None = None
    external_id: str | None = None
    verb = Verb.SUBMIT


@dataclass(frozen=True, slots=True)
class Verify:
    report_id: uuid.UUID
    note: str | None = None
    privacy: PrivacyFlags | None = None
    """Flags to set at verification; they may only tighten."""
    verb = Verb.VERIFY


@dataclass(frozen=True, slots=True)
class Postpone:
    report_id: uuid.UUID
    note: str
    verb = Verb.POSTPONE


@dataclass(frozen=True, slots=True)
class Dispose:
    report_id: uuid.UUID
    institution_code: str
    note: str | None = None
    verb = Verb.DISPOSE


@dataclass(frozen=True, slots=True)
class FollowUp:
    report_id: uuid.UUID
    content: str
    verb = Verb.FOLLOW_UP


@dataclass(frozen=True, slots=True)
class Complete:
    report_id: uuid.UUID
    note: str | None = None
    verb = Verb.COMPLETE


@dataclass(frozen=True, slots=True)
class Reopen:
    report_id: uuid.UUID
    note: str
    """Why it was reopened: a reopening is always recorded, never silent."""
    verb = Verb.REOPEN


@dataclass(frozen=True, slots=True)
class Archive:
    report_id: uuid.UUID
    reason: ArchiveReason
    note: str | None = None
    verb = Verb.ARCHIVE


@dataclass(frozen=True, slots=True)
class Decline:
    report_id: uuid.UUID
    note: str
    """Why the institution is not competent ("Bukan Wewenang"), for the one forwarding it."""
    verb = Verb.DECLINE


@dataclass(frozen=True, slots=True)
class Reply:
    report_id: uuid.UUID
    content: str
    """The reporter's answer to a follow-up; it holds no identity of its own."""
    verb = Verb.REPLY


Transition = Verify | Postpone | Dispose | FollowUp | Complete | Reopen | Archive | Decline | Reply
Command = Submit | Transition

TRANSITION_COMMANDS: Mapping[Verb, type[Transition]] = {c.verb: c for c in get_args(Transition)}
"""The command class of each transition verb."""


def for_verb(
    verb: Verb,
    report_id: uuid.UUID,
    *,
    note: str | None,
    said: str,
    institution_code: str | None,
    archive_reason: ArchiveReason | None,
) -> Transition:
    """The command of ``verb`` from what is known of a change made elsewhere (a node's
    system, a held change an admin resolves): ``note`` for the verbs whose note is
    optional, ``said`` for those that need one, the institution a disposition names
    and an archive's reason (UNCLEAR when none is known)."""
    rid = report_id
    match verb:
        case Verb.VERIFY:
            return Verify(rid, note=note)
        case Verb.POSTPONE:
            return Postpone(rid, note=said)
        case Verb.DISPOSE:
            if institution_code is None:
                raise BadInput("a disposition needs the institution it goes to (institutionCode)")
            return Dispose(rid, institution_code=institution_code, note=note)
        case Verb.FOLLOW_UP:
            return FollowUp(rid, content=said)
        case Verb.COMPLETE:
            return Complete(rid, note=note)
        case Verb.REOPEN:
            return Reopen(rid, note=said)
        case Verb.ARCHIVE:
            return Archive(rid, reason=archive_reason or ArchiveReason.UNCLEAR, note=said)
        case Verb.DECLINE:
            return Decline(rid, note=said)
        case Verb.REPLY:
            return Reply(rid, content=said)
    raise BadInput(f"{verb.value} is not a transition")


_NIK = re.compile(r"^\d{16}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_KEY = re.compile(r"^[\x21-\x7e]{8,128}$")


def _text(name: str, value: str | None, limit: int, *, required: bool = False) -> None:
    if value is None or not value.strip():
        if required:
            raise BadInput(f"{name} must not be empty")
        return
    if len(value) > limit:
        raise BadInput(f"{name} is {len(value)} characters long; the limit is {limit}")


def validate(command: Command) -> None:
    """Raises BadInput naming the first field that is wrong."""
    match command:
        case Submit():
            _validate_submit(command)
        case Verify() | Complete():
            _text("note", command.note, 2000)
        case Postpone() | Reopen():
            _text("note", command.note, 2000, required=True)
        case Dispose():
            _text("institutionCode", command.institution_code, 64, required=True)
            _text("note", command.note, 2000)
        case FollowUp():
            _text("content", command.content, 10_000, required=True)
        case Archive():
            _text("note", command.note, 2000)
        case Decline():
            _text("reason", command.note, 2000, required=True)
        case Reply():
            _text("content", command.content, 10_000, required=True)


def _validate_submit(c: Submit) -> None:
    _text("title", c.title, 200, required=True)
    _text("content", c.content, 10_000, required=True)
    _text("location", c.location, 500)
    problem = validate_kind(c.kind, c.complaint_sub_kind)
    if problem:
        raise BadInput(problem)
    if (c.latitude is None) != (c.longitude is None):
        raise BadInput("latitude and longitude go together: give both or neither")
    if c.latitude is not None and not -90 <= c.latitude <= 90:
        raise BadInput(f"latitude must be between -90 and 90, got {c.latitude}")
    if c.longitude is not None and not -180 <= c.longitude <= 180:
        raise BadInput(f"longitude must be between -180 and 180, got {c.longitude}")
    if len(c.tags) > 20 or any(not t.strip() or len(t) > 50 for t in c.tags):
        raise BadInput("tags: at most 20, each 1 to 50 characters")
    if (c.external_node is None) != (c.external_id is None):
        raise BadInput("externalRef needs both node and externalId")
    _text("externalRef.externalId", c.external_id, 128)
    if c.reporter is not None:
        if c.reporter.nik is not None and not _NIK.match(c.reporter.nik):
            raise BadInput("reporter.nik must be 16 digits")
        if c.reporter.email is not None and not _EMAIL.match(c.reporter.email):
            raise BadInput("reporter.email is not an e-mail address")
        _text("reporter.name", c.reporter.name, 200)
        _text("reporter.phone", c.reporter.phone, 32)


def validate_key(key: str) -> None:
    if not _KEY.match(key):
        raise BadInput("idempotencyKey must be 8 to 128 printable ASCII characters, no spaces")


def fingerprint(command: Command, expected_version: int | None) -> str:
    """A stable hash of a request, to tell a retry from a different request.

    Its bytes are those of ``dataclasses.asdict`` through ``json.dumps`` (a key stored
    by an earlier release still matches its retry), without ``asdict``'s deep copy of
    every value, which cost the write path more than the hash itself.
    """
    body = {"verb": command.verb.value, "expected": expected_version, **_plain(command)}
    encoded = json.dumps(body, sort_keys=True, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()


def _plain(value: Any) -> Any:
    """``value`` as JSON sees ``dataclasses.asdict``'s copy of it: dataclasses as dicts of
    their fields, sequences as lists, everything else as it is."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
