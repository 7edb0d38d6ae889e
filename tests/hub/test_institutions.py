"""The institutions directory: every level listed and paged, admins keep it (GraphQL and
``sp4n-hub institutions``), a report forwarded to a regency's dinas reaches that
regency's node, a deactivated institution takes no new report but keeps its own."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

import asyncpg
import httpx
from starlette.applications import Starlette

from hub.cli.institutions import add_institutions_parser, institutions_command
from tests.fixtures.app import GraphQLClient, token_for
from tests.hub.operations import DECLINE, DISPOSE, VERIFY, error_code, key, submission, submit

PAGE = """
query Page($filter: InstitutionFilter, $first: Int!, $after: String) {
  institutions(filter: $filter, first: $first, after: $after) {
    totalCount
    edges { cursor node { code name level active source node { code } region { code } } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""
ADD = """
mutation Add($input: AddInstitutionInput!) {
  addInstitution(input: $input) { code name level active source node { code } region { code } }
}
"""
RENAME = """
mutation Rename($code: String!, $name: String!) {
  renameInstitution(code: $code, name: $name) { code name }
}
"""
DEACTIVATE = """
mutation Deactivate($code: String!, $note: String!) {
  deactivateInstitution(code: $code, note: $note) { code active }
}
"""
REPORT = """
query R($id: ID!) {
  report(id: $id) { state institution { code name active } dispositions { toInstitutionCode } }
}
"""


async def _all(gql: GraphQLClient, where: dict[str, Any], first: int) -> list[dict[str, Any]]:
    """Every institution matching ``where``, page by page."""
    seen: list[dict[str, Any]] = []
    after = None
    while True:
        page = (await gql.data(PAGE, filter=where, first=first, after=after))["institutions"]
        seen += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]


async def test_the_directory_lists_every_level_page_by_page(public_gql: GraphQLClient) -> None:
    palembang = await _all(public_gql, {"regionCode": "16.71", "level": "REGENCY_OPD"}, 4)
    codes = [i["code"] for i in palembang]
    assert codes == sorted(codes)
    assert len(codes) == len(set(codes)) == 15
    assert "opd-16.71-dinkes" in codes
    dinkes = next(i for i in palembang if i["code"] == "opd-16.71-dinkes")
    assert dinkes["name"] == "Dinas Kesehatan Kota Palembang"
    assert dinkes["node"]["code"] == "16.71"
    assert dinkes["region"]["code"] == "16.71"
    assert dinkes["active"]
    assert "PP No. 18 Tahun 2016" in dinkes["source"]

    province = await _all(public_gql, {"level": "PROVINCIAL_OPD"}, 50)
    assert len([i for i in province if i["code"].startswith("opd-16-")]) == 48
    first = await public_gql.data(PAGE, filter={"regionCode": "16.71"}, first=1)
    assert first["institutions"]["totalCount"] == 16  # its government and 15 dinas/badan

    # A few letters of the name, any case; every regency has its health office.
    health = await _all(public_gql, {"text": "DINAS KESEHATAN", "level": "REGENCY_OPD"}, 100)
    assert len(health) == 17

    bad = await public_gql.execute(PAGE, first=5, after="bm90IGEgY3Vyc29y")
    assert error_code(bad) == "BAD_INPUT"
    assert "cursor" in bad["errors"][0]["message"]
    assert error_code(await public_gql.execute(PAGE, first=0)) == "BAD_INPUT"


async def test_a_report_forwarded_to_a_regency_dinas_reaches_that_regency(
    app: Starlette, gql: GraphQLClient, database_url: str
) -> None:
    # Filed with the province (region 16), so Palembang is not involved until the
    # report is forwarded to one of Palembang's own offices.
    r = await submit(gql, regionCode="16", title="Puskesmas tutup di jam pelayanan")
    r = (await gql.data(VERIFY, id=r["id"], v=1, key=key()))["verifyReport"]
    r = (await gql.data(DISPOSE, id=r["id"], v=2, key=key(), to="opd-16.71-dinkes"))[
        "disposeReport"
    ]
    assert r["institutionCode"] == "opd-16.71-dinkes"
    conn = await asyncpg.connect(database_url)
    try:
        data = await conn.fetchval(
            "SELECT data FROM outbox WHERE report_id = $1 AND version = 3", r["id"]
        )
    finally:
        await conn.close()
    assert "16.71" in json.loads(data)["involvedNodes"]

    # Palembang's system may now act on it: its dinas declines (not its competence),
    # and the report goes back to the province, institution name and all.
    palembang = GraphQLClient(
        gql.http, await token_for(app, "system-16.71", "16.71", ["node:16.71:write"])
    )
    back = await palembang.data(DECLINE, id=r["id"], v=3, key=key(), reason="bukan wewenang")
    assert back["declineDisposition"]["institutionCode"] == "pemprov-16"
    shown = (await gql.data(REPORT, id=r["id"]))["report"]
    assert shown["institution"] == {
        "code": "pemprov-16",
        "name": "Pemerintah Provinsi Sumatera Selatan",
        "active": True,
    }


async def _audited(database_url: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetch(
            "SELECT action, client_id, outcome FROM audit_log "
            "WHERE action LIKE 'INSTITUTION_%' ORDER BY id"
        )
    finally:
        await conn.close()


async def test_admins_add_rename_and_deactivate_and_reports_follow(
    app: Starlette, gql: GraphQLClient, public_gql: GraphQLClient, database_url: str
) -> None:
    new = {
        "code": "opd-16.71-kec-ilir-barat-i",
        "name": "Kecamatan  Ilir Barat I",
        "level": "REGENCY_OPD",
        "regionCode": "16.71",
    }
    node = GraphQLClient(
        gql.http, await token_for(app, "system-16.71", "16.71", ["node:16.71:write"])
    )
    assert error_code(await node.execute(ADD, input=new)) == "FORBIDDEN"
    assert error_code(await public_gql.execute(ADD, input=new)) == "FORBIDDEN"

    added = (await gql.data(ADD, input=new))["addInstitution"]
    assert added["name"] == "Kecamatan Ilir Barat I"  # spaces tidied
    assert added["node"]["code"] == "16.71"  # its region's node by default
    assert added["active"]
    assert added["source"] == "added by test-admin"
    again = await gql.execute(ADD, input=new)
    assert error_code(again) == "BAD_INPUT"
    assert "exists already" in again["errors"][0]["message"]
    for wrong, says in [
        ({**new, "code": "Kec Ilir"}, "lower-case"),
        ({**new, "code": "kec-x", "level": "PROVINCIAL_OPD"}, "PROVINCE region"),
        ({**new, "code": "kec-y", "regionCode": "99.99"}, "not a region"),
        ({**new, "code": "kec-z", "nodeCode": "nowhere"}, "not a node"),
        ({**new, "code": "kl-x", "level": "NATIONAL"}, "no regionCode"),
    ]:
        refused = await gql.execute(ADD, input=wrong)
        assert error_code(refused) == "BAD_INPUT", refused
        assert says in refused["errors"][0]["message"]
    listed = await _all(gql, {"text": "ilir barat"}, 10)
    assert [i["code"] for i in listed] == [new["code"]]  # nothing half-written by the refusals

    renamed = await gql.data(RENAME, code=new["code"], name="Kecamatan Ilir Barat Satu")
    assert renamed["renameInstitution"]["name"] == "Kecamatan Ilir Barat Satu"

    # A report goes there; then the kecamatan is merged away.
    held = await submit(gql, regionCode="16.71")
    held = (await gql.data(VERIFY, id=held["id"], v=1, key=key()))["verifyReport"]
    held = (await gql.data(DISPOSE, id=held["id"], v=2, key=key(), to=new["code"]))["disposeReport"]
    gone = await gql.data(DEACTIVATE, code=new["code"], note="digabung ke kecamatan lain")
    assert gone["deactivateInstitution"] == {"code": new["code"], "active": False}
    twice = await gql.execute(DEACTIVATE, code=new["code"], note="lagi")
    assert "deactivated already" in twice["errors"][0]["message"]

    # It keeps its report and history ...
    shown = (await gql.data(REPORT, id=held["id"]))["report"]
    assert shown["institution"]["code"] == new["code"]
    assert not shown["institution"]["active"]
    assert shown["dispositions"][-1]["toInstitutionCode"] == new["code"]
    # ... and takes no new one, by disposition or by submission.
    other = await submit(gql, regionCode="16.71")
    other = (await gql.data(VERIFY, id=other["id"], v=1, key=key()))["verifyReport"]
    refused = await gql.execute(DISPOSE, id=other["id"], v=2, key=key(), to=new["code"])
    assert error_code(refused) == "BAD_INPUT"
    assert "deactivated" in refused["errors"][0]["message"]
    refused = await gql.execute(
        "mutation S($input: SubmitReportInput!, $key: String!) "
        "{ submitReport(input: $input, idempotencyKey: $key) { id } }",
        input={**submission(), "institutionCode": new["code"]},
        key=key(),
    )
    assert error_code(refused) == "BAD_INPUT"
    assert "deactivated" in refused["errors"][0]["message"]
    inactive = await _all(gql, {"active": False}, 10)
    assert [i["code"] for i in inactive] == [new["code"]]

    audited = await _audited(database_url)
    assert [(a["action"], a["outcome"]) for a in audited] == [
        ("INSTITUTION_ADD", f"OK:{new['code']}"),
        ("INSTITUTION_RENAME", f"OK:{new['code']}"),
        ("INSTITUTION_DEACTIVATE", f"OK:{new['code']}"),
    ]
    assert {a["client_id"] for a in audited} == {"test-admin"}


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_institutions_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["institutions", *argv])


async def test_the_command_line_keeps_the_directory(app: Starlette, database_url: str) -> None:
    async def run(*argv: str) -> tuple[int, list[str]]:
        lines: list[str] = []
        status = await institutions_command(_parse(*argv), database_url, say=lines.append)
        return status, lines

    status, lines = await run(
        "add", "opd-16.02-upt-jalan", "UPT Jalan Kayuagung", "--level", "REGENCY_OPD",
        "--region", "16.02",
    )  # fmt: skip
    assert status == 0
    assert "opd-16.02-upt-jalan" in lines[0]
    status, lines = await run("list", "--region", "16.02", "--text", "upt")
    assert status == 0
    assert lines[0].split()[:3] == ["opd-16.02-upt-jalan", "REGENCY_OPD", "16.02"]
    assert lines[-1] == "1 institution(s)"
    status, lines = await run("rename", "opd-16.02-upt-jalan", "UPT Jalan dan Jembatan")
    assert status == 0
    assert "UPT Jalan dan Jembatan" in lines[0]
    status, lines = await run("deactivate", "opd-16.02-upt-jalan", "--note", "dibubarkan")
    assert status == 0
    assert "[deactivated]" in lines[0]
    status, lines = await run("list", "--inactive")
    assert status == 0
    assert lines[0].startswith("opd-16.02-upt-jalan")
    status, lines = await run("add", "x", "Terlalu pendek", "--level", "NATIONAL")
    assert status == 2
    assert lines == [
        "refused (BAD_INPUT): code 'x': use 2 to 63 lower-case letters, digits, dots and "
        "hyphens, starting with a letter or digit (e.g. opd-16.71-dinkes)"
    ]
    status, lines = await run("rename", "no-such-code", "Apa Saja")
    assert status == 2
    assert lines[0].startswith("refused (NOT_FOUND)")
    audited = await _audited(database_url)
    assert [a["action"] for a in audited] == [
        "INSTITUTION_ADD", "INSTITUTION_RENAME", "INSTITUTION_DEACTIVATE",
    ]  # fmt: skip
    assert all(a["client_id"].startswith("cli:") for a in audited)


def _cache_hits(metrics: str) -> float:
    line = next(x for x in metrics.splitlines() if x.startswith("sp4n_cache_hits_total"))
    return float(line.split()[1])


async def test_a_cached_answer_follows_a_rename_made_elsewhere(
    app: Starlette, gql: GraphQLClient, http: httpx.AsyncClient, database_url: str
) -> None:
    """The rename comes from the command line (another process, no outbox row): the
    cache hears of it through the directory's changed_at, not through a mutation here."""
    report = await submit(gql, regionCode="16.71")
    await asyncio.sleep(0.3)  # the change feed is live
    name = "query R($id: ID!) { report(id: $id) { institution { code name } } }"
    first = await gql.data(name, id=report["id"])
    before = _cache_hits((await http.get("/metrics")).text)
    assert await gql.data(name, id=report["id"]) == first
    assert _cache_hits((await http.get("/metrics")).text) == before + 1  # served from cache

    parser = argparse.ArgumentParser()
    add_institutions_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["institutions", "rename", "pemda-16.71", "Pemkot Palembang"])
    assert await institutions_command(args, database_url, say=lambda _: None) == 0
    for _ in range(50):
        shown = (await gql.data(name, id=report["id"]))["report"]["institution"]
        if shown["name"] == "Pemkot Palembang":
            break
        await asyncio.sleep(0.1)
    assert shown == {"code": "pemda-16.71", "name": "Pemkot Palembang"}
