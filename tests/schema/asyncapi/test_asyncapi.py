"""The event stream's AsyncAPI document (schema/asyncapi.yaml): committed as the code
generates it, sound to the reference parser, one message per verb, and describing what
``encode`` puts on a record."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from hub.cli.main import ASYNCAPI_FILE, asyncapi_text
from hub.sync.bus import Topics
from schema.envelope import encode
from schema.events import ExternalRef, ReportEvent
from schema.lifecycle import VERBS, ReportState, Verb
from schema.report import ActorRole, ReportKind
from tests.fixtures.app import run_node
from tests.schema.asyncapi.check import check_record, messages_of

PARSE = Path(__file__).with_name("parse.mjs")


def _document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(ASYNCAPI_FILE.read_text(encoding="utf-8"))
    return loaded


async def _diagnostics(path: Path) -> list[dict[str, str]]:
    found: list[dict[str, str]] = json.loads(await run_node(PARSE, str(path)))
    return found


def test_committed_asyncapi_matches_the_code() -> None:
    assert ASYNCAPI_FILE.read_text(encoding="utf-8") == asyncapi_text(), (
        "schema/asyncapi.yaml is stale: run `sp4n-hub export-schema`"
    )


async def test_the_reference_parser_finds_no_error_or_warning() -> None:
    found = await _diagnostics(ASYNCAPI_FILE)
    assert [d for d in found if d["severity"] in ("error", "warning")] == []


async def test_the_reference_parser_reports_a_broken_document(tmp_path: Path) -> None:
    document = _document()
    document["operations"]["publishReportEvents"]["action"] = "publish"
    document["channels"]["reportState"]["messages"]["reportVerified"] = {
        "$ref": "#/components/messages/reportNothing"
    }
    broken = tmp_path / "asyncapi.yaml"
    broken.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    errors = " ".join(d["message"] for d in await _diagnostics(broken) if d["severity"] == "error")
    assert "reportNothing" in errors


def test_the_channels_are_the_default_topics_and_carry_every_verb() -> None:
    document = _document()
    topics = Topics()
    channels = document["channels"]
    assert [c["address"] for c in channels.values()] == [
        topics.events,
        topics.state,
        topics.dead_letters,
    ]
    assert channels["reportState"]["bindings"]["kafka"]["topicConfiguration"]["cleanup.policy"] == [
        "compact"
    ]
    assert "SP4N_KAFKA_TOPIC_PREFIX" in document["info"]["description"]
    for channel in ("reportEvents", "reportState"):
        types = {
            m["headers"]["properties"]["ce_type"]["const"]
            for m in messages_of(document, channel).values()
        }
        assert types == {f"id.go.sp4n.report.{rule.event}.v1" for rule in VERBS.values()}
    assert (
        "involvedNodes"
        in messages_of(document, "reportEvents")["reportVerified"]["payload"]["required"]
    )


def _event(verb: Verb) -> ReportEvent:
    sources = [s for s in ReportState if s in VERBS[verb].sources]
    return ReportEvent(
        event_id=str(uuid.uuid4()),
        report_id=str(uuid.uuid4()),
        version=1 if verb is Verb.SUBMIT else 7,
        verb=verb,
        previous_state=sources[-1] if sources else None,
        state=VERBS[verb].target,
        kind=ReportKind.ASPIRATION,
        region_code="16",
        origin_node="lapor",
        institution_codes=("pemda-16.71", "opd-16-pubmtr"),
        involved_nodes=("16", "16.71", "lapor"),
        external_refs=(ExternalRef("lapor", "LAPOR-99"),),
        occurred_at=datetime(2027, 1, 4, 23, 59, 59, 123456, tzinfo=UTC),
        actor_node="16",
        actor_role=ActorRole.LIAISON_ADMIN,
    )


@pytest.mark.parametrize("verb", list(Verb))
def test_what_encode_sends_fits_its_message(verb: Verb) -> None:
    record = encode(_event(verb))
    name, problems = check_record(
        _document(), "reportEvents", record.key, record.value, record.headers
    )
    assert problems == []
    assert name is not None
    assert name.lower() == "report" + VERBS[verb].event.replace("-", "")


def test_an_off_contract_record_does_not_fit() -> None:
    document = _document()
    record = encode(_event(Verb.VERIFY))
    data = json.loads(record.value)

    def problems(key: bytes, value: dict[str, Any], headers: list[tuple[str, bytes]]) -> str:
        return str(check_record(document, "reportEvents", key, json.dumps(value).encode(), headers))

    assert "title" in problems(record.key, {**data, "title": "Jalan rusak"}, record.headers)
    assert "state" in problems(record.key, {**data, "state": "ARCHIVED"}, record.headers)
    assert "key" in problems(b"not-a-report-id", data, record.headers)
    extra = [*record.headers, ("x-reporter", b"Rina")]
    assert "not one" in problems(record.key, data, extra)
    other_type = [
        (n, b"id.go.sp4n.report.archived.v1" if n == "ce_type" else v) for n, v in record.headers
    ]
    assert "verb" in problems(record.key, data, other_type)
