"""The README's GraphiQL walk-through works against the demo data, as written."""

from __future__ import annotations

import re

import asyncpg
import httpx
from starlette.applications import Starlette

from hub.demo.seed import seed_reports
from tests.fixtures.app import GraphQLClient, token_for
from tests.fixtures.postgres import ROOT


def _operations() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```graphql\n(.*?)```", text, flags=re.S)


async def test_the_three_walk_through_operations_work(
    app: Starlette, http: httpx.AsyncClient, database_url: str
) -> None:
    palembang = GraphQLClient(
        http, await token_for(app, "readme-palembang", "16.71", ["node:16.71:write"])
    )
    province = GraphQLClient(
        http, await token_for(app, "readme-province", "16", ["province:admin"])
    )
    conn = await asyncpg.connect(database_url)
    try:
        await seed_reports(conn, 500)
    finally:
        await conn.close()
    operations = _operations()
    assert len(operations) == 3

    page = (await GraphQLClient(http).data(operations[0]))["reports"]
    assert page["totalCount"] > 0
    assert all(edge["node"]["history"] for edge in page["edges"])

    first = await palembang.data(operations[1])
    again = await palembang.data(operations[1])
    assert first == again, "the idempotency key must return the same report"
    report_id = first["submitReport"]["id"]

    moved = await province.data(operations[2].replace("<id>", report_id))
    assert moved["d"]["state"] == "DISPOSED"
    assert moved["d"]["dispositions"][0]["toInstitution"]["name"].startswith("Dinas Pekerjaan")
