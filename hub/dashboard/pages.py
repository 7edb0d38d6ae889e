"""``/dashboard``: the HTTP surface of the dashboard, server-rendered (jinja2, escaped).

The caller is read from ``scope["state"]["principal"]`` only: a bearer token's
principal (``Authenticate``) and a signed-in person's alike.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from hub.dashboard import charts, exports
from hub.dashboard.access import NoDashboard, NotSignedIn, Reader
from hub.dashboard.reports import overdue, report_page
from hub.dashboard.tables import SHARES, Cell, View
from hub.dashboard.texts import Texts
from hub.dashboard.views import TILE_FIGURES, Views
from hub.errors import BadInput
from hub.ministry.period import Period
from hub.ministry.queries import MinistryQueries
from hub.ministry.settings import MinistrySettings
from hub.security.csrf import csrf_token
from hub.security.scopes import PUBLIC, Principal
from hub.store.database import Database
from schema.calendar import WIB, wib_date
from schema.institutions import InstitutionLevel
from schema.lifecycle import ReportState
from schema.regions import REGIONS

HERE = Path(__file__).parent
ASSETS = {"dashboard.css": "text/css", "favicon.svg": "image/svg+xml"}
"""The dashboard's own files: no third-party script, style or font."""
_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
_REGION_CODES = {r.code for r in REGIONS}
_TRANSLATED = {"kind", "stage", "level", "label"}
_VIEWS = ("overview", "region", "sla", "ranking", "trend", "overdue")


def _now() -> datetime:
    return datetime.now(UTC)


def _default_period(today: date) -> Period:
    """The current month and the eleven before it."""
    months = today.year * 12 + today.month - 1 - 11
    start = date(months // 12, months % 12 + 1, 1)
    following = today.year * 12 + today.month
    return Period(start, date(following // 12, following % 12 + 1, 1))


def _date(request: Request, name: str) -> date | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadInput(f"{name}={raw!r} is not a date (YYYY-MM-DD)") from None


class Dashboard:
    """The pages and their exports; a fresh ``MinistryQueries`` per request."""

    def __init__(
        self,
        db: Database,
        settings: MinistrySettings,
        may_read_figures: Callable[[Principal], bool],
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._db = db
        self._settings = settings
        self._may_read_figures = may_read_figures
        self._clock = clock
        self._env = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters["wib"] = _wib

    def routes(self) -> list[Route]:
        return [
            Route("/dashboard", self._page(self._overview)),
            Route("/dashboard/regions/{code}", self._page(self._region)),
            Route("/dashboard/sla", self._page(self._sla)),
            Route("/dashboard/ranking", self._page(self._ranking)),
            Route("/dashboard/trend", self._page(self._trend)),
            Route("/dashboard/overdue", self._page(self._overdue)),
            Route("/dashboard/reports/{id}", self._page(self._report)),
            Route("/dashboard/export/{view}.{fmt}", self._page(self._export)),
            Route("/dashboard/assets/{name}", self._asset),
        ]

    async def _asset(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in ASSETS:
            return Response("not found", status_code=404, media_type="text/plain")
        return FileResponse(
            HERE / "static" / name, media_type=ASSETS[name], headers={"cache-control": "no-cache"}
        )

    def _page(
        self, build: Callable[[Request, Reader, Texts], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            t = Texts(request.query_params.get("lang", "id"))
            principal: Principal = request.scope.get("state", {}).get("principal", PUBLIC)
            try:
                reader = Reader.of(principal, self._may_read_figures)
            except NotSignedIn:
                # A person is sent to log in and brought back; an export link too.
                back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/login?{urlencode({'next': back})}", status_code=303)
            except NoDashboard:
                return self._message(t, 403, "no_dashboard")
            try:
                response = await build(request, reader, t)
            except BadInput as error:
                return self._message(t, 400, "bad_input", detail=f"{error.code}: {error.message}")
            response.headers["content-security-policy"] = _CSP
            response.headers["cache-control"] = "private, no-store"
            return response

        return endpoint

    def _message(self, t: Texts, status: int, key: str, *, detail: str = "") -> Response:
        html = self._env.get_template("message.html").render(
            t=t, message=t(key), detail=detail, status=status
        )
        response = HTMLResponse(html, status_code=status)
        response.headers["content-security-policy"] = _CSP
        return response

    def _queries(self) -> MinistryQueries:
        return MinistryQueries(self._db, self._settings, clock=self._clock)

    async def _views(self, reader: Reader) -> Views:
        # Read each time: admins add institutions at run time (a few hundred rows).
        rows = await self._db.fetch("dashboard_institution_regions")
        regions = {r["code"]: r["region_code"] for r in rows}
        return Views(self._queries(), reader, regions)

    def _period(self, request: Request) -> Period:
        start, end = _date(request, "from"), _date(request, "to")
        if start is None and end is None:
            return _default_period(wib_date(self._clock()))
        if start is None or end is None:
            raise BadInput("give both from and to (YYYY-MM-DD, WIB), or neither")
        return Period(start, end)

    async def _view(self, request: Request, reader: Reader, name: str) -> View:
        period = self._period(request)
        views = await self._views(reader)
        if name == "overview":
            return await views.overview(period, self._figure(request))
        if name == "region":
            return await views.region(period, self._region_code(request, reader))
        if name == "sla":
            return await views.sla(period)
        if name == "ranking":
            return await views.ranking(period, self._level(request))
        if name == "trend":
            return await views.trend(period)
        return await overdue(self._db, self._queries(), reader, period)

    def _figure(self, request: Request) -> str:
        figure = request.query_params.get("figure", TILE_FIGURES[0])
        if figure not in TILE_FIGURES:
            raise BadInput(f"figure={figure!r} is not one of {', '.join(TILE_FIGURES)}")
        return figure

    def _level(self, request: Request) -> InstitutionLevel | None:
        raw = request.query_params.get("level")
        if not raw:
            return None
        try:
            return InstitutionLevel(raw.upper())
        except ValueError:
            choices = ", ".join(e.value for e in InstitutionLevel)
            raise BadInput(f"level={raw!r} is not one of {choices}") from None

    def _region_code(self, request: Request, reader: Reader) -> str:
        code = request.path_params.get("code") or request.query_params.get("code", "")
        if code not in _REGION_CODES:
            raise BadInput(f"{code!r} is not a region code (16 or 16.xx)")
        if not reader.sees_region(code):
            raise BadInput(f"region {code} is not among this account's regions")
        return code

    def _render(
        self, request: Request, reader: Reader, t: Texts, view: View, **extra: object
    ) -> Response:
        params = {k: v for k, v in request.query_params.items() if k != "lang"}
        params.setdefault("from", view.heading.period.start.isoformat())
        params.setdefault("to", view.heading.period.end.isoformat())
        if view.name == "region":
            params["code"] = request.path_params["code"]
        html = self._env.get_template(f"{view.name}.html").render(
            t=t,
            view=view,
            reader=reader,
            cell=lambda value, column: _cell(t, value, column),
            query=lambda **more: _query(request, t, **more),
            export=lambda fmt: f"/dashboard/export/{view.name}.{fmt}?{urlencode(params)}",
            other_language=_query(request, t, lang=t.other),
            csrf=csrf_token(request),
            figures=TILE_FIGURES,
            levels=[e.value for e in InstitutionLevel],
            **extra,
        )
        return HTMLResponse(html)

    async def _overview(self, request: Request, reader: Reader, t: Texts) -> Response:
        view = await self._view(request, reader, "overview")
        figure = self._figure(request)
        svg = charts.tiles(
            view.tiles,
            share=figure in SHARES or figure.endswith("_limit"),
            suppressed=t("suppressed"),
        )
        return self._render(request, reader, t, view, tiles_svg=svg, figure=figure)

    async def _region(self, request: Request, reader: Reader, t: Texts) -> Response:
        view = await self._view(request, reader, "region")
        name = next(r.name for r in REGIONS if r.code == request.path_params["code"])
        return self._render(request, reader, t, view, region_name=name)

    async def _sla(self, request: Request, reader: Reader, t: Texts) -> Response:
        return self._render(request, reader, t, await self._view(request, reader, "sla"))

    async def _ranking(self, request: Request, reader: Reader, t: Texts) -> Response:
        view = await self._view(request, reader, "ranking")
        level = self._level(request)
        return self._render(request, reader, t, view, level=level.value if level else "")

    async def _trend(self, request: Request, reader: Reader, t: Texts) -> Response:
        view = await self._view(request, reader, "trend")
        rows = view.tables[0].rows
        months = sorted({str(r.cells[0]) for r in rows})

        def summed(index: int) -> list[int | None]:
            out: list[int | None] = []
            for month in months:
                values = [r.cells[index] for r in rows if r.cells[0] == month]
                known = [v for v in values if isinstance(v, int)]
                out.append(sum(known) if known else None)
            return out

        svg = charts.bars(
            months, [(t("received"), "#0b4f8a", summed(2)), (t("completed"), "#2e8b57", summed(3))]
        )
        return self._render(request, reader, t, view, trend_svg=svg)

    async def _overdue(self, request: Request, reader: Reader, t: Texts) -> Response:
        return self._render(request, reader, t, await self._view(request, reader, "overdue"))

    async def _report(self, request: Request, reader: Reader, t: Texts) -> Response:
        try:
            report_id = uuid.UUID(request.path_params["id"])
        except ValueError:
            raise BadInput(f"{request.path_params['id']!r} is not a report id") from None
        page = await report_page(self._db, self._queries(), reader, report_id)
        if page is None:
            return self._message(t, 404, "not_found")
        html = self._env.get_template("report.html").render(
            t=t,
            page=page,
            reader=reader,
            state_label=lambda s: ReportState(s).label,
            other_language=_query(request, t, lang=t.other),
            csrf=csrf_token(request),
            query=lambda **more: _query(request, t, **more),
            now=self._clock(),
        )
        return HTMLResponse(html)

    async def _export(self, request: Request, reader: Reader, t: Texts) -> Response:
        name, fmt = request.path_params["view"], request.path_params["fmt"]
        if name not in _VIEWS or fmt not in ("csv", "xlsx"):
            raise BadInput(f"no export {name}.{fmt}: views {', '.join(_VIEWS)}; csv or xlsx")
        view = await self._view(request, reader, name)
        suffix = f"-{request.query_params['code']}" if name == "region" else ""
        disposition = {
            "content-disposition": f'attachment; filename="{exports.filename(view, fmt, suffix)}"'
        }
        if fmt == "csv":
            return Response(
                exports.as_csv(view), media_type="text/csv; charset=utf-8", headers=disposition
            )
        return Response(exports.as_xlsx(view), media_type=exports.XLSX, headers=disposition)


def _wib(instant: datetime | None) -> str:
    """A time as people in Sumatra read it."""
    return instant.astimezone(WIB).strftime("%Y-%m-%d %H:%M:%S WIB") if instant else "—"


def _query(request: Request, t: Texts, **more: str) -> str:
    params = dict(request.query_params)
    params.update(more)
    if params.get("lang") == "id":
        params.pop("lang")
    return "?" + urlencode(params) if params else "?"


def _cell(t: Texts, value: Cell, column: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and (column in SHARES or column.endswith("_limit")):
        return f"{value * 100:.1f} %"
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}".replace(",", ".") if column != "rank" else str(value)
    if column in _TRANSLATED or (column == "region" and value == "total"):
        return t(value)
    if column == "state":
        return ReportState(value).label
    return value
