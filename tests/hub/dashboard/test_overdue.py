"""The overdue list, read a horizon at a time, is the whole list's beginning."""

from __future__ import annotations

from datetime import date

from hub.dashboard.access import Reader
from hub.dashboard.reports import overdue
from hub.ministry.period import Period
from hub.ministry.queries import MinistryQueries
from hub.security.scopes import Principal
from hub.settings import Settings
from hub.store.database import Database
from schema.calendar import wib_date
from tests.hub.dashboard.conftest import Hub

ADMIN = Principal("overdue-admin", "16", frozenset({"province:admin"}))
PALEMBANG = Principal("overdue-palembang", "16.71", frozenset({"node:16.71:read"}))


async def test_a_short_list_is_the_beginning_of_the_whole_one(hub: Hub, settings: Settings) -> None:
    db: Database = hub.app.state.database
    queries = MinistryQueries(db, settings.ministry)
    today = wib_date(queries.now())
    period = Period(date(today.year - 2, 1, 1), date(today.year + 1, 1, 1))
    for principal, regions in ((ADMIN, None), (PALEMBANG, ["16.71"])):
        reader = Reader.of(principal, lambda p: p.is_admin)
        whole = await db.fetch(
            "dashboard_overdue",
            period.start,
            period.end,
            today,
            reader.viewer.sees_everything,
            list(reader.viewer.nodes),
            regions,
            100_000,
            date.max,
        )
        assert len(whole) > 12  # so that the short list stops early
        view = await overdue(db, queries, reader, period, limit=12)
        shown = [row.cells[0] for row in view.tables[0].rows]
        assert shown == [str(r["id"]) for r in whole[:12]]
        due = [r["due_day"] for r in whole]
        assert due == sorted(due)
