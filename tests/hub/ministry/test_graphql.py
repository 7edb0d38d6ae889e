"""``MinistryQuery`` and the report deadline fields, in a tiny schema of their own."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
import strawberry

from hub.ministry.context import MinistryRequest
from hub.ministry.graphql import (
    MinistryQuery,
    StageDeadlineType,
    report_deadlines,
    report_overdue,
)
from hub.ministry.settings import MinistrySettings
from hub.store.database import Database
from schema.calendar import WIB
from tests.hub.ministry import dataset


@strawberry.type
class Report:
    """Stands in for the hub's Report: the deadline fields attach the same way."""

    id: strawberry.ID
    uuid: strawberry.Private[uuid.UUID]
    deadlines: list[StageDeadlineType] = strawberry.field(resolver=report_deadlines)
    overdue: bool = strawberry.field(resolver=report_overdue)


def _report(id: strawberry.ID) -> Report:
    return Report(id=id, uuid=uuid.UUID(id))


@strawberry.type
class Query(MinistryQuery):
    report: Report = strawberry.field(resolver=_report)


@dataclass(slots=True)
class Context:
    ministry: MinistryRequest


SCHEMA = strawberry.Schema(query=Query)

DEADLINES = """
query Deadlines($id: ID!) {
  report(id: $id) {
    overdue
    deadlines { stage status workingDays startedAt dueAt endedAt breachedAt workingDaysTaken }
  }
}
"""


@pytest.fixture
async def reports(db: Database) -> dict[str, uuid.UUID]:
    return await dataset.build(db)


async def run(
    db: Database, query: str, suppress_below: int = 1, may_read: bool = True, **variables: Any
) -> Any:
    settings = MinistrySettings(suppress_below=suppress_below)
    context = Context(MinistryRequest(db, settings, clock=dataset.Clock(), may_read=may_read))
    result = await SCHEMA.execute(query, variable_values=variables, context_value=context)
    if result.errors:
        return {"errors": [{"message": e.message, **(e.extensions or {})} for e in result.errors]}
    return result.data


def _at(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


async def test_deadlines_of_a_report_sent_the_friday_evening_before_idul_fitri(
    db: Database, reports: dict[str, uuid.UUID]
) -> None:
    data = await run(db, DEADLINES, id=str(reports["R1"]))
    stages = {d["stage"]: d for d in data["report"]["deadlines"]}
    verify = stages["VERIFY"]
    assert verify["status"] == "MET"
    assert verify["workingDays"] == 3
    # Friday 13 March 19:00 WIB: the third working day is Wednesday 25 March.
    assert _at(verify["dueAt"]) == datetime(2026, 3, 25, 23, 59, 59, 999999, tzinfo=WIB)
    assert _at(verify["endedAt"]) == dataset.wib(3, 16, 9)
    assert verify["workingDaysTaken"] == 1
    assert verify["breachedAt"] is None
    follow = stages["FIRST_FOLLOW_UP"]
    assert (follow["status"], follow["workingDaysTaken"]) == ("LATE", 6)
    assert _at(follow["startedAt"]) == dataset.wib(3, 25, 10)
    assert _at(follow["breachedAt"]) == datetime(2026, 4, 1, 23, 59, 59, 999999, WIB)
    completion = stages["COMPLETION"]
    assert (completion["status"], completion["workingDays"]) == ("MET", 14)
    assert _at(completion["dueAt"]) == datetime(2026, 4, 10, 23, 59, 59, 999999, WIB)
    assert stages["AUTO_CLOSE"]["status"] == "NOT_APPLICABLE"
    assert data["report"]["overdue"] is False


async def test_overdue_and_pending_deadlines(db: Database, reports: dict[str, uuid.UUID]) -> None:
    r2 = await run(db, DEADLINES, id=str(reports["R2"]))
    stages = {d["stage"]: d for d in r2["report"]["deadlines"]}
    assert r2["report"]["overdue"] is True
    assert stages["COMPLETION"]["status"] == "OVERDUE"
    assert _at(stages["COMPLETION"]["breachedAt"]) == datetime(2026, 3, 31, 23, 59, 59, 999999, WIB)
    assert stages["FIRST_FOLLOW_UP"]["status"] == "NOT_STARTED"
    r3 = await run(db, DEADLINES, id=str(reports["R3"]))
    assert r3["report"]["overdue"] is False
    assert {d["stage"]: d["status"] for d in r3["report"]["deadlines"]} == {
        "VERIFY": "PENDING",
        "FIRST_FOLLOW_UP": "NOT_STARTED",
        "COMPLETION": "PENDING",
        "AUTO_CLOSE": "NOT_APPLICABLE",
    }
    r5 = await run(db, DEADLINES, id=str(reports["R5"]))
    auto = {d["stage"]: d for d in r5["report"]["deadlines"]}["AUTO_CLOSE"]
    # Quiet since the follow-up of Tuesday 20 January: ten working days end on 3 February.
    assert (auto["status"], auto["workingDays"]) == ("OVERDUE", 10)
    assert _at(auto["dueAt"]) == datetime(2026, 2, 3, 23, 59, 59, 999999, WIB)
    unknown = await run(db, DEADLINES, id=str(uuid.uuid4()))
    assert unknown["report"] == {"overdue": False, "deadlines": []}


async def test_deadlines_of_a_page_are_one_statement(
    db: Database, reports: dict[str, uuid.UUID]
) -> None:
    query = (
        "query { "
        + " ".join(
            f'r{i}: report(id: "{report_id}") {{ overdue deadlines {{ status }} }}'
            for i, report_id in enumerate(reports.values())
        )
        + " }"
    )
    before = db.statements.count
    data = await run(db, query)
    assert db.statements.count - before == 1
    # R2 and R5 are past the completion limit; R6 ended late, which is not overdue.
    assert sum(r["overdue"] for r in data.values()) == 2


FIGURES = """
query Figures($period: PeriodInput!) {
  statistics(period: $period, groupBy: REGION) {
    period { from to timeZone } ruleVersions suppressBelow groupBy
    total { received confidential redispositions }
    groups { key label suppressed figures { received archived } }
  }
  slaCompliance(period: $period, groupBy: KIND) {
    asOf
    total { stage met late overdue pending withinLimitShare medianWorkingDays p90WorkingDays }
    groups { key suppressed stages { stage withinLimitShare } }
  }
  ranking(period: $period, level: REGENCY_GOVERNMENT) {
    level entries { rank institutionCode score received }
  }
}
"""


async def test_figures_through_graphql(db: Database, reports: dict[str, uuid.UUID]) -> None:
    period = {"from": "2026-01-01", "to": "2027-01-01"}
    data = await run(db, FIGURES, suppress_below=3, period=period)
    stats = data["statistics"]
    assert stats["period"] == {"from": "2026-01-01", "to": "2027-01-01", "timeZone": "Asia/Jakarta"}
    assert stats["ruleVersions"] == ["2018-62"]
    assert stats["suppressBelow"] == 3
    assert stats["total"] == {"received": 6, "confidential": 1, "redispositions": 1}
    lahat = {"received": 3, "archived": 1}
    palembang = {"received": 3, "archived": 0}
    assert stats["groups"] == [
        {"key": "16.04", "label": "Lahat", "suppressed": False, "figures": lahat},
        {"key": "16.71", "label": "Palembang", "suppressed": False, "figures": palembang},
    ]
    sla = data["slaCompliance"]
    assert sla["asOf"] == "2026-04-30"
    assert sla["total"][2] == {
        "stage": "COMPLETION",
        "met": 1,
        "late": 1,
        "overdue": 2,
        "pending": 1,
        "withinLimitShare": 0.25,
        "medianWorkingDays": 7,
        "p90WorkingDays": 14,
    }
    kinds = {g["key"]: g for g in sla["groups"]}
    assert kinds["COMPLAINT"]["suppressed"] is False
    assert kinds["ASPIRATION"]["suppressed"] is True
    assert kinds["ASPIRATION"]["stages"] is None
    assert data["ranking"]["entries"][0] == {
        "rank": 1,
        "institutionCode": "pemda-16.04",
        "score": 0.5,
        "received": 3,
    }
    # Figures only: no title, content or report id anywhere in the answer.
    text = json.dumps(data)
    assert dataset.SECRET not in text
    assert not any(str(report_id) in text for report_id in reports.values())


async def test_a_bad_period_is_bad_input(db: Database) -> None:
    data = await run(db, FIGURES, period={"from": "2026-05-01", "to": "2026-05-01"})
    assert data["errors"][0]["code"] == "BAD_INPUT"
    assert "must be after" in data["errors"][0]["message"]


async def test_figures_need_the_ministry_scope_deadlines_do_not(
    db: Database, reports: dict[str, uuid.UUID]
) -> None:
    period = {"from": "2026-01-01", "to": "2027-01-01"}
    refused = await run(db, FIGURES, may_read=False, period=period)
    assert {e["code"] for e in refused["errors"]} == {"FORBIDDEN"}
    deadlines = await run(db, DEADLINES, may_read=False, id=str(reports["R2"]))
    assert deadlines["report"]["overdue"] is True
