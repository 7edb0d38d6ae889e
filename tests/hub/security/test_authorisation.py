"""Every mutation in the schema, tried across nodes: refused like an unknown id, nothing changes.

The mutations are enumerated from the schema, so a new one is covered (or this
test asks for a value for its new argument)."""

from __future__ import annotations

from typing import Any

import asyncpg
import graphql
import httpx
import pytest
from starlette.applications import Starlette

from hub.api.schema import sdl
from tests.fixtures.app import GraphQLClient, token_for
from tests.hub.operations import submission

# Values for the extra arguments mutations take; a new argument must be added here.
EXTRA: dict[str, Any] = {
    "note": "catatan",
    "institutionCode": "opd-16-dinkes",
    "content": "tindak lanjut",
    "reason": "SPAM",
    "privacy": {"anonymous": False, "confidential": False},
    "score": 5,
    "comment": "komentar",
}


def _mutations() -> list[tuple[str, dict[str, str]]]:
    """(mutation name, {argument: its GraphQL type}) for every mutation of the schema."""
    mutation_type = graphql.build_schema(sdl()).mutation_type
    assert mutation_type is not None
    return [
        (name, {arg: str(a.type) for arg, a in field.args.items()})
        for name, field in mutation_type.fields.items()
    ]


NOWHERE = "00000000-0000-4000-8000-000000000000"
ADMIN_ONLY: dict[str, tuple[str, dict[str, Any]]] = {
    "resolveReviewItem": (
        "mutation($i: ResolveReviewItemInput!) { resolveReviewItem(input: $i) { id } }",
        {"i": {"id": "1", "action": "DISMISS", "note": "catatan"}},
    ),
    "markDuplicate": (
        "mutation($id: ID!, $of: ID!) { markDuplicate(id: $id, of: $of, expectedVersion: 1, "
        'idempotencyKey: "k-000010") { id } }',
        {"id": NOWHERE, "of": NOWHERE},
    ),
    "addInstitution": (
        "mutation($i: AddInstitutionInput!) { addInstitution(input: $i) { code } }",
        {
            "i": {
                "code": "opd-16.71-baru",
                "name": "Dinas Baru",
                "level": "REGENCY_OPD",
                "regionCode": "16.71",
            }
        },
    ),
    "renameInstitution": (
        'mutation { renameInstitution(code: "pemda-16.71", name: "Nama Lain") { code } }',
        {},
    ),
    "deactivateInstitution": (
        'mutation { deactivateInstitution(code: "pemda-16.71", note: "tutup") { code } }',
        {},
    ),
}
"""The province's admin desks: refused to every other caller before anything is read."""
MUTATIONS = [m for m in _mutations() if m[0] != "submitReport" and m[0] not in ADMIN_ONLY]
"""The mutations a node's system makes on one report."""


async def _snapshot(url: str) -> tuple[Any, ...]:
    conn = await asyncpg.connect(url)
    try:
        return tuple(
            [
                await conn.fetchval(f"SELECT count(*) FROM {t}")
                for t in (
                    "report_history",
                    "outbox",
                    "dispositions",
                    "follow_ups",
                    "idempotency_keys",
                )
            ]
            + [tuple(await conn.fetch("SELECT id, state, version FROM reports ORDER BY id"))]
            + [tuple(await conn.fetch("SELECT code, name, active FROM institutions ORDER BY code"))]
        )
    finally:
        await conn.close()


def _operation(name: str, args: dict[str, str]) -> str:
    declared, passed = ["$id: ID!"], ["id: $id"]
    if "expectedVersion" in args:  # every change of a report but a rating
        declared += ["$v: Int!", "$key: String!"]
        passed += ["expectedVersion: $v", "idempotencyKey: $key"]
    for arg in args:
        if arg in ("id", "expectedVersion", "idempotencyKey"):
            continue
        assert arg in EXTRA, f"mutation {name} has a new argument {arg!r}: add a value to EXTRA"
        declared.append(f"${arg}: {args[arg]}")
        passed.append(f"{arg}: ${arg}")
    return f"mutation({', '.join(declared)}) {{ {name}({', '.join(passed)}) {{ __typename }} }}"


def test_every_mutation_is_enumerated() -> None:
    names = {m[0] for m in _mutations()}
    # A new mutation is a report mutation (tried across nodes below) or an admin desk.
    for name, args in _mutations():
        report_mutation = "id" in args
        assert name in ADMIN_ONLY or name == "submitReport" or report_mutation, name
    assert {
        "submitReport",
        "verifyReport",
        "postponeReport",
        "disposeReport",
        "addFollowUp",
        "completeReport",
        "reopenReport",
        "archiveReport",
    } <= names


@pytest.mark.parametrize(("name", "args"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
async def test_another_nodes_report_is_like_an_unknown_id(
    app: Starlette, http: httpx.AsyncClient, database_url: str, name: str, args: dict[str, str]
) -> None:
    palembang = GraphQLClient(http, await token_for(app, "plg", "16.71", ["node:16.71:write"]))
    lahat = GraphQLClient(http, await token_for(app, "lht", "16.04", ["node:16.04:write"]))
    created = await palembang.data(
        'mutation($i: SubmitReportInput!) { submitReport(input: $i, idempotencyKey: "k-000001")'
        " { id version } }",
        i=submission(regionCode="16.71"),
    )
    report_id = created["submitReport"]["id"]
    operation = _operation(name, args)
    variables = {
        "id": report_id,
        "v": 1,
        "key": "cross-node-1",
        **{a: EXTRA[a] for a in args if a in EXTRA},
    }
    before = await _snapshot(database_url)
    cross = await lahat.execute(operation, **variables)
    unknown = await lahat.execute(
        operation, **{**variables, "id": "00000000-0000-4000-8000-000000000000"}
    )
    assert cross["errors"][0]["extensions"]["code"] == "NOT_FOUND", cross
    assert cross["errors"][0]["message"].replace(report_id, "<id>") == unknown["errors"][0][
        "message"
    ].replace("00000000-0000-4000-8000-000000000000", "<id>")
    assert await _snapshot(database_url) == before


WRITERS = [m for m in _mutations() if m[0] not in ADMIN_ONLY]


@pytest.mark.parametrize(("name", "args"), WRITERS, ids=[m[0] for m in WRITERS])
@pytest.mark.parametrize("scopes", [None, ["ministry:read"], ["node:16.71:read"]])
async def test_callers_without_a_write_scope_are_forbidden(
    app: Starlette,
    http: httpx.AsyncClient,
    database_url: str,
    name: str,
    args: dict[str, str],
    scopes: list[str] | None,
) -> None:
    token = await token_for(app, "reader", "16.71", scopes) if scopes else None
    caller = GraphQLClient(http, token)
    if name == "submitReport":
        operation = (
            "mutation($i: SubmitReportInput!) { submitReport(input: $i, "
            'idempotencyKey: "k-000002") { id } }'
        )
        variables: dict[str, Any] = {"i": submission()}
    else:
        operation = _operation(name, args)
        variables = {
            "id": "00000000-0000-4000-8000-000000000000",
            "v": 1,
            "key": "k-000003",
            **{a: EXTRA[a] for a in args if a in EXTRA},
        }
    before = await _snapshot(database_url)
    body = await caller.execute(operation, **variables)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await _snapshot(database_url) == before


@pytest.mark.parametrize("name", sorted(ADMIN_ONLY))
@pytest.mark.parametrize(
    "scopes", [None, ["ministry:read"], ["node:16.71:read"], ["node:16.71:write"]]
)
async def test_admin_desks_are_forbidden_to_everyone_else(
    app: Starlette, http: httpx.AsyncClient, database_url: str, name: str, scopes: list[str] | None
) -> None:
    token = await token_for(app, "caller", "16.71", scopes) if scopes else None
    operation, variables = ADMIN_ONLY[name]
    before = await _snapshot(database_url)
    body = await GraphQLClient(http, token).execute(operation, **variables)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await _snapshot(database_url) == before


async def test_a_node_acts_on_reports_disposed_to_its_institutions(
    app: Starlette, http: httpx.AsyncClient
) -> None:
    palembang = GraphQLClient(http, await token_for(app, "plg", "16.71", ["node:16.71:write"]))
    province = GraphQLClient(http, await token_for(app, "prov", "16", ["node:16:write"]))
    r = (
        await palembang.data(
            'mutation($i: SubmitReportInput!) { submitReport(input: $i, idempotencyKey: "k-000004")'
            " { id } }",
            i=submission(regionCode="16.71"),
        )
    )["submitReport"]
    follow = (
        "mutation($id: ID!, $v: Int!) { addFollowUp(id: $id, expectedVersion: $v, "
        'idempotencyKey: "k-000005", content: "ditangani") { state } }'
    )
    # Not yet the province's business...
    assert (await province.execute(follow, id=r["id"], v=3))["errors"][0]["extensions"][
        "code"
    ] == "NOT_FOUND"
    await palembang.data(
        "mutation($id: ID!) { verifyReport(id: $id, expectedVersion: 1, "
        'idempotencyKey: "k-000006") { version } }',
        id=r["id"],
    )
    await palembang.data(
        "mutation($id: ID!) { disposeReport(id: $id, expectedVersion: 2, "
        'idempotencyKey: "k-000007", institutionCode: "opd-16-pubmtr") '
        "{ version } }",
        id=r["id"],
    )
    # ...until it is disposed to a provincial agency.
    done = await province.data(follow, id=r["id"], v=3)
    assert done["addFollowUp"]["state"] == "IN_FOLLOW_UP"
