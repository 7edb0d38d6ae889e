"""``/export/``: the ministry's figures as CSV and JSON, streamed.

``GET /export/{statistics,sla-compliance,ranking}.{csv,json}?from=YYYY-MM-DD&to=YYYY-MM-DD``
with ``groupBy`` (statistics, sla-compliance) or ``level`` (ranking, optional).
Every export names its period (WIB, [from, to)), the rule versions its reports were
judged by and the suppression threshold; CSV repeats them on every row so a row
cut from the file still says what it is. Like the GraphQL fields, an export holds
counts, shares and working days only.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from hub.errors import BadInput
from hub.ministry.figures import (
    Counts,
    Declines,
    GroupBy,
    Ranking,
    RankingEntry,
    SlaCompliance,
    StageFigures,
    Statistics,
)
from hub.ministry.period import Period
from hub.ministry.queries import MinistryQueries
from hub.ministry.settings import MinistrySettings
from hub.store.database import Database
from schema.institutions import InstitutionLevel

_COUNTS = [
    "received",
    "anonymous",
    "confidential",
    "verified",
    "disposed",
    "followed_up",
    "completed",
    "auto_closed",
    "archived",
    "redisposed",
    "redispositions",
]
_STAGE = [
    "stage",
    "met",
    "late",
    "overdue",
    "pending",
    "within_limit_share",
    "median_working_days",
    "p90_working_days",
]
_RANK = [
    "rank",
    "institution_code",
    "institution_name",
    "institution_level",
    "suppressed",
    "received",
    "score",
    "verified_within_limit",
    "first_follow_up_within_limit",
    "completed_within_limit",
    "completed_share",
    "archived_or_redisposed_share",
    "anonymous_share",
    "confidential_share",
    "median_verify_working_days",
    "median_first_follow_up_working_days",
    "median_completion_working_days",
    "redispositions",
]
_DECLINES = ["institution_code", "institution_name", "level", "suppressed", "forwarded",
             "declined", "rate"]  # fmt: skip
_HEAD = ["period_from", "period_to", "time_zone", "current_to", "rule_versions", "suppress_below"]

Cell = str | int | float | bool | None
E = TypeVar("E", GroupBy, InstitutionLevel)


def _now() -> datetime:
    return datetime.now(UTC)


def _date(request: Request, name: str) -> date:
    raw = request.query_params.get(name)
    if raw is None:
        raise BadInput(f"the query parameter {name!r} is required (YYYY-MM-DD, WIB)")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadInput(f"{name}={raw!r} is not a date (YYYY-MM-DD)") from None


def _choice(request: Request, name: str, kind: type[E]) -> E | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        return kind(raw.upper().replace("-", "_"))
    except ValueError:
        choices = ", ".join(e.value for e in kind)
        raise BadInput(f"{name}={raw!r} is not one of {choices}") from None


def _counts(c: Counts | None) -> list[Cell]:
    return [getattr(c, name) if c else None for name in _COUNTS]


def _stage(f: StageFigures) -> list[Cell]:
    return [
        f.stage.value,
        f.met,
        f.late,
        f.overdue,
        f.pending,
        f.within_limit_share,
        f.median_days,
        f.p90_days,
    ]


def _stage_json(f: StageFigures) -> dict[str, Cell]:
    return dict(zip(_STAGE, _stage(f), strict=True))


def _head(
    period: Period, current_to: datetime, versions: Sequence[str], threshold: int
) -> list[Cell]:
    return [
        period.start.isoformat(),
        period.end.isoformat(),
        "Asia/Jakarta",
        current_to.isoformat(),
        ";".join(versions),
        threshold,
    ]


async def _csv(header: list[str], rows: Iterable[list[Cell]]) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


async def _json(head: dict[str, object], key: str, items: Iterable[object]) -> AsyncIterator[str]:
    opening = json.dumps(head, ensure_ascii=False)
    yield opening[:-1] + f', "{key}": ['
    for index, item in enumerate(items):
        yield ("," if index else "") + json.dumps(item, ensure_ascii=False)
    yield "]}\n"


def _period_json(period: Period) -> dict[str, str]:
    return {
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
        "timeZone": "Asia/Jakarta",
    }


class Exporter:
    """The endpoints; each builds a service per request, like the GraphQL context."""

    def __init__(
        self,
        db: Database,
        settings: MinistrySettings,
        clock: Callable[[], datetime],
        authorize: Callable[[Request], bool],
    ) -> None:
        self._db = db
        self._settings = settings
        self._clock = clock
        self._authorize = authorize

    def _service(self) -> MinistryQueries:
        return MinistryQueries(self._db, self._settings, clock=self._clock)

    async def statistics(self, request: Request) -> Response:
        return await self._guard(request, self._statistics)

    async def sla_compliance(self, request: Request) -> Response:
        return await self._guard(request, self._sla_compliance)

    async def ranking(self, request: Request) -> Response:
        return await self._guard(request, self._ranking)

    async def declines(self, request: Request) -> Response:
        return await self._guard(request, self._declines)

    async def _guard(
        self, request: Request, build: Callable[[Request, str], Awaitable[Response]]
    ) -> Response:
        if not self._authorize(request):
            refusal = "the ministry's figures need the ministry:read scope"
            return JSONResponse({"error": refusal, "code": "FORBIDDEN"}, status_code=403)
        fmt = request.path_params["fmt"]
        if fmt not in ("csv", "json"):
            problem = {"error": f"no export format {fmt!r}; use csv or json", "code": "NOT_FOUND"}
            return JSONResponse(problem, status_code=404)
        try:
            return await build(request, fmt)
        except BadInput as error:
            return JSONResponse({"error": error.message, "code": error.code}, status_code=400)

    async def _statistics(self, request: Request, fmt: str) -> Response:
        period = Period(_date(request, "from"), _date(request, "to"))
        group_by = _choice(request, "groupBy", GroupBy) or GroupBy.REGION
        s = await self._service().statistics(period, group_by)
        return _stream("statistics", s.period, fmt, _statistics_body(s, fmt))

    async def _sla_compliance(self, request: Request, fmt: str) -> Response:
        period = Period(_date(request, "from"), _date(request, "to"))
        group_by = _choice(request, "groupBy", GroupBy) or GroupBy.REGION
        s = await self._service().sla_compliance(period, group_by)
        return _stream("sla-compliance", s.period, fmt, _sla_body(s, fmt))

    async def _ranking(self, request: Request, fmt: str) -> Response:
        period = Period(_date(request, "from"), _date(request, "to"))
        level = _choice(request, "level", InstitutionLevel)
        r = await self._service().ranking(period, level)
        return _stream("ranking", r.period, fmt, _ranking_body(r, fmt))

    async def _declines(self, request: Request, fmt: str) -> Response:
        period = Period(_date(request, "from"), _date(request, "to"))
        level = _choice(request, "level", InstitutionLevel)
        d = await self._service().declines(period, level)
        return _stream("declines", d.period, fmt, _declines_body(d, fmt))


def _stream(name: str, period: Period, fmt: str, body: AsyncIterator[str]) -> Response:
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
    filename = f"{name}-{period.start.isoformat()}-{period.end.isoformat()}.{fmt}"
    return StreamingResponse(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _statistics_body(s: Statistics, fmt: str) -> AsyncIterator[str]:
    head = _head(s.period, s.current_to, s.rule_versions, s.suppress_below)
    if fmt == "csv":
        rows = [[*head, "TOTAL", "", "Total", s.total is None, *_counts(s.total)]]
        rows += [
            [*head, s.group_by.value, g.key, g.label, g.counts is None, *_counts(g.counts)]
            for g in s.groups
        ]
        header = [*_HEAD, "group_by", "key", "label", "suppressed", *_COUNTS]
        return _csv(header, rows)
    meta: dict[str, object] = {
        "figure": "statistics",
        "period": _period_json(s.period),
        "currentTo": s.current_to.isoformat(),
        "ruleVersions": list(s.rule_versions),
        "suppressBelow": s.suppress_below,
        "groupBy": s.group_by.value,
        "total": dict(zip(_COUNTS, _counts(s.total), strict=True)) if s.total else None,
    }
    groups = (
        {
            "key": g.key,
            "label": g.label,
            "suppressed": g.counts is None,
            "figures": dict(zip(_COUNTS, _counts(g.counts), strict=True)) if g.counts else None,
        }
        for g in s.groups
    )
    return _json(meta, "groups", groups)


def _sla_body(s: SlaCompliance, fmt: str) -> AsyncIterator[str]:
    head = [*_head(s.period, s.current_to, s.rule_versions, s.suppress_below), s.as_of.isoformat()]
    if fmt == "csv":
        rows: list[list[Cell]] = [
            [*head, "TOTAL", "", "Total", False, *_stage(f)] for f in s.total or ()
        ]
        for g in s.groups:
            if g.stages is None:
                rows.append([*head, s.group_by.value, g.key, g.label, True] + [None] * len(_STAGE))
            else:
                rows += [
                    [*head, s.group_by.value, g.key, g.label, False, *_stage(f)] for f in g.stages
                ]
        header = [*_HEAD, "as_of", "group_by", "key", "label", "suppressed", *_STAGE]
        return _csv(header, rows)
    meta: dict[str, object] = {
        "figure": "sla-compliance",
        "period": _period_json(s.period),
        "currentTo": s.current_to.isoformat(),
        "asOf": s.as_of.isoformat(),
        "ruleVersions": list(s.rule_versions),
        "suppressBelow": s.suppress_below,
        "groupBy": s.group_by.value,
        "total": [_stage_json(f) for f in s.total] if s.total else None,
    }
    groups = (
        {
            "key": g.key,
            "label": g.label,
            "suppressed": g.stages is None,
            "stages": [_stage_json(f) for f in g.stages] if g.stages else None,
        }
        for g in s.groups
    )
    return _json(meta, "groups", groups)


def _ranking_body(r: Ranking, fmt: str) -> AsyncIterator[str]:
    level = r.level.value if r.level else ""
    head = [
        *_head(r.period, r.current_to, r.rule_versions, r.suppress_below),
        r.as_of.isoformat(),
        level,
    ]
    entries = [_entry(e) for e in r.entries]
    if fmt == "csv":
        header = [*_HEAD, "as_of", "level", *_RANK]
        return _csv(header, ([*head, *e] for e in entries))
    meta: dict[str, object] = {
        "figure": "ranking",
        "period": _period_json(r.period),
        "currentTo": r.current_to.isoformat(),
        "asOf": r.as_of.isoformat(),
        "ruleVersions": list(r.rule_versions),
        "suppressBelow": r.suppress_below,
        "level": r.level.value if r.level else None,
    }
    return _json(meta, "entries", (dict(zip(_RANK, e, strict=True)) for e in entries))


def _entry(e: RankingEntry) -> list[Cell]:
    return [
        e.rank,
        e.code,
        e.name,
        e.level.value,
        e.suppressed,
        e.received,
        e.score,
        e.verified_within_limit,
        e.first_follow_up_within_limit,
        e.completed_within_limit,
        e.completed_share,
        e.archived_or_redisposed_share,
        e.anonymous_share,
        e.confidential_share,
        e.median_verify_days,
        e.median_first_follow_up_days,
        e.median_completion_days,
        e.redispositions,
    ]


def _declines_body(d: Declines, fmt: str) -> AsyncIterator[str]:
    entries: list[list[Cell]] = [
        [e.code, e.name, e.level.value, e.suppressed, e.forwarded, e.declined, e.rate]
        for e in d.entries
    ]
    if fmt == "csv":
        head = [
            *_head(d.period, d.current_to, (), d.suppress_below),
            d.level.value if d.level else "",
        ]
        return _csv([*_HEAD, "level", *_DECLINES], ([*head, *e] for e in entries))
    meta: dict[str, object] = {
        "figure": "declines",
        "period": _period_json(d.period),
        "currentTo": d.current_to.isoformat(),
        "suppressBelow": d.suppress_below,
        "level": d.level.value if d.level else None,
    }
    return _json(meta, "entries", (dict(zip(_DECLINES, e, strict=True)) for e in entries))


def _anyone(request: Request) -> bool:
    return True


def ministry_routes(
    db: Database,
    settings: MinistrySettings,
    *,
    clock: Callable[[], datetime] = _now,
    authorize: Callable[[Request], bool] = _anyone,
) -> list[Route]:
    """The export routes, to add to the hub's Starlette app; ``authorize`` decides who
    may read them (403 otherwise)."""
    exporter = Exporter(db, settings, clock, authorize)
    return [
        Route("/export/statistics.{fmt}", exporter.statistics, methods=["GET"]),
        Route("/export/sla-compliance.{fmt}", exporter.sla_compliance, methods=["GET"]),
        Route("/export/ranking.{fmt}", exporter.ranking, methods=["GET"]),
        Route("/export/declines.{fmt}", exporter.declines, methods=["GET"]),
    ]
