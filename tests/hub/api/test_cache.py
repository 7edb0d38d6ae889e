"""The response cache: never stale after a change, never shared between callers who may
see different things, revalidated with ETags, and only for what may be cached."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from hub.api.cache import ResponseCache
from hub.app import create_app
from hub.domain.commands import Actor, Dispose, FollowUp, Verify
from hub.settings import Settings
from schema.report import ActorRole
from tests.fixtures.app import GraphQLClient, token_for
from tests.hub.operations import (
    ARCHIVE,
    COMPLETE,
    DISPOSE,
    FOLLOW_UP,
    POSTPONE,
    REOPEN,
    VERIFY,
    key,
    submit,
)

CANARY = "KANARI-RAHASIA-7f3a"

PAGE = """query($f: ReportFilter, $first: Int!) {
  reports(filter: $f, first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id version state title content institutionCode confidential anonymous
      history { version verb toState note } dispositions { seq toInstitutionCode }
      followUps { content }
    } }
  }
}"""

ONE = """query($id: ID!) { report(id: $id) { id version state title content confidential
  institution { code name } history { verb toState } } }"""

FILTERS: list[dict[str, Any] | None] = [
    None,
    {"state": "SUBMITTED"},
    {"state": "DISPOSED"},
    {"regionCode": "16.71"},
    {"institutionCode": "opd-16-dinkes"},
    {"kind": "ASPIRATION"},
    {"titleContains": "Jalan"},
]

VIEWERS = {
    "public": (None, []),
    "palembang": ("16.71", ["node:16.71:read", "node:16.71:write"]),
    "oku": ("16.01", ["node:16.01:read"]),
    "admin": ("16", ["province:admin"]),
    "ministry": (None, ["ministry:read"]),
}


@pytest.fixture
async def plain(settings: Settings) -> AsyncIterator[Starlette]:
    """The same hub on the same database with no response cache: the yardstick."""
    app = create_app(dataclasses.replace(settings, cache_mb=0))
    async with app.router.lifespan_context(app):
        yield app


async def _tokens(app: Starlette) -> dict[str, str | None]:
    """A token per visibility (the same keys and clients serve every hub of the test)."""
    tokens: dict[str, str | None] = {}
    for name, (node, scopes) in VIEWERS.items():
        tokens[name] = await token_for(app, f"cache-{name}", node, scopes) if scopes else None
    return tokens


def _clients(http: httpx.AsyncClient, tokens: dict[str, str | None]) -> dict[str, GraphQLClient]:
    return {name: GraphQLClient(http, token) for name, token in tokens.items()}


async def _answers(clients: dict[str, GraphQLClient], ids: list[str]) -> dict[str, Any]:
    """Every visibility's answer to every page and to each report read alone."""
    answers: dict[str, Any] = {}
    for name, client in clients.items():
        for f in FILTERS:
            answers[f"{name} {f}"] = await client.execute(PAGE, f=f, first=5)
        for report_id in ids:
            answers[f"{name} {report_id}"] = await client.execute(ONE, id=report_id)
    return answers


def _differences(cached: dict[str, Any], plain: dict[str, Any]) -> list[str]:
    return [k for k in plain if cached[k] != plain[k]]


_NEXT = {
    "SUBMITTED": ["verify", "postpone", "archive"],
    "POSTPONED": ["verify"],
    "VERIFIED": ["dispose"],
    "DISPOSED": ["follow_up", "dispose"],
    "IN_FOLLOW_UP": ["follow_up", "complete"],
    "COMPLETED": ["reopen"],
    "ARCHIVED": [],
}


async def _mutate(admin: GraphQLClient, rng: random.Random, report: dict[str, Any]) -> None:
    """A random move of the report, through a GraphQL mutation (one the hub refuses,
    such as a disposition to where the report already is, changes nothing)."""
    moves = _NEXT[report["state"]]
    if not moves:
        return
    move = rng.choice(moves)
    common = {"id": report["id"], "v": report["version"], "key": key()}
    if move == "verify":
        privacy = {"confidential": True} if rng.random() < 0.3 else None
        await admin.execute(VERIFY, **common, privacy=privacy)
    elif move == "postpone":
        await admin.execute(POSTPONE, **common, note="Lengkapi lokasi.")
    elif move == "archive":
        await admin.execute(ARCHIVE, **common, reason="SPAM")
    elif move == "dispose":
        to = rng.choice(["opd-16-dinkes", "opd-16-pubmtr", "pemda-16.01"])
        await admin.execute(DISPOSE, **common, to=to)
    elif move == "follow_up":
        await admin.execute(FOLLOW_UP, **common, content=f"Tindak lanjut {rng.random():.4f}.")
    elif move == "complete":
        await admin.execute(COMPLETE, **common)
    else:
        await admin.execute(REOPEN, **common, note="Belum selesai.")


async def _pull(app: Starlette, rng: random.Random, report: dict[str, Any]) -> None:
    """A change pulled from a node: the write path, not a GraphQL mutation of this
    process (the cache hears of it from the outbox)."""
    rid = uuid.UUID(report["id"])
    command = {
        "SUBMITTED": Verify(rid),
        "VERIFIED": Dispose(rid, "pemda-16.71"),
        "DISPOSED": FollowUp(rid, "Ditangani di sistem daerah."),
        "IN_FOLLOW_UP": FollowUp(rid, f"Lanjutan {rng.random():.4f}."),
    }.get(report["state"])
    if command is None:
        return
    actor = Actor("16.71", ActorRole.NODE_SYSTEM, everywhere=True)
    await app.state.service.execute(command, actor, expected_version=report["version"])


async def _current(admin: GraphQLClient, report_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (await admin.data(ONE, id=report_id))["report"]
    return found


async def test_cached_answers_equal_the_uncached_hub_after_any_interleaving(
    app: Starlette, plain: Starlette, http: httpx.AsyncClient
) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=plain), base_url="http://plain.test"
    ) as plain_http:
        tokens = await _tokens(app)
        cached, uncached = _clients(http, tokens), _clients(plain_http, tokens)
        writer = cached["palembang"]
        ids = [(await submit(writer, title=f"Jalan rusak {i}"))["id"] for i in range(3)]
        ids.append((await submit(writer, kind="ASPIRATION", complaintSubKind=None))["id"])
        secret = await submit(
            writer,
            title=f"Laporan {CANARY}",
            content=f"Isi {CANARY}",
            privacy={"confidential": True},
        )
        ids.append(secret["id"])
        admin = cached["admin"]
        rng = random.Random(11)
        cache: ResponseCache = app.state.cache
        for step in range(24):
            action = rng.random()
            report = await _current(admin, rng.choice(ids))
            if action < 0.55:
                await _mutate(admin, rng, report)
            elif action < 0.8:
                await _pull(app, rng, report)
                # Not this process's mutation: the feed brings it within its interval
                # (0.2 s); after half a second every answer must show it.
                await asyncio.sleep(0.5)
            else:
                ids.append((await submit(writer, title=f"Jalan baru {step}"))["id"])
            # The cached hub first, at once: what this process's mutation changed must
            # be gone from its cache before the mutation's answer was sent.
            hits = cache.stats.hits
            got = await _answers(cached, ids)
            expected = await _answers(uncached, ids)
            assert _differences(got, expected) == [], step
            # Asked again with nothing changed: answered from the cache, the same.
            assert _differences(await _answers(cached, ids), expected) == [], step
            assert cache.stats.hits > hits
            for name in ("public", "oku", "ministry"):
                assert CANARY not in str({k: v for k, v in expected.items() if k.startswith(name)})
        assert cache.stats.invalidated > 0


async def test_a_confidential_report_never_reaches_another_callers_entry(
    app: Starlette, http: httpx.AsyncClient
) -> None:
    clients = _clients(http, await _tokens(app))
    await submit(
        clients["palembang"],
        title=f"Laporan {CANARY}",
        content=f"Isi {CANARY}",
        privacy={"confidential": True},
    )
    cache: ResponseCache = app.state.cache
    # The involved node and the admin read first, so their answers are cached first.
    for name in ("palembang", "admin", "public", "oku", "ministry", "palembang", "public"):
        body = await clients[name].execute(PAGE, f=None, first=5)
        assert (CANARY in str(body)) == (name in ("palembang", "admin")), name
    # One entry per visibility: the public and the ministry see reports alike (and share
    # one); the involved node, the admin and the uninvolved node have theirs.
    assert len(cache) == 4
    assert sum(CANARY.encode() in e.body for e in cache._entries.values()) == 2


async def test_get_answers_carry_an_etag_and_revalidate(
    app: Starlette, http: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    report = await submit(gql)
    params = {"query": ONE, "variables": f'{{"id": "{report["id"]}"}}'}
    first = await http.get("/graphql", params=params)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, no-cache"
    again = await http.get("/graphql", params=params, headers={"if-none-match": etag})
    assert again.status_code == 304
    assert again.content == b""
    # A change makes the old tag stale: the full, new answer comes back.
    await gql.data(VERIFY, id=report["id"], v=report["version"], key=key())
    after = await http.get("/graphql", params=params, headers={"if-none-match": etag})
    assert after.status_code == 200
    assert after.json()["data"]["report"]["state"] == "VERIFIED"
    assert after.headers["etag"] != etag


@pytest.mark.parametrize(
    "query",
    [
        "{ nodes { code lag } }",
        "{ reports(first: 2) { edges { node { id reporter { name } } } } }",
        "{ reports(first: 2) { edges { node { id deadlines { stage status } } } } }",
        "{ __schema { queryType { name } } }",
        '{ report(id: "not-a-uuid") { id } }',
    ],
    ids=["node sync", "identity", "deadlines", "introspection", "an error"],
)
async def test_what_must_not_be_cached_is_not(
    app: Starlette, gql: GraphQLClient, query: str
) -> None:
    await submit(gql)
    cache: ResponseCache = app.state.cache
    for _ in range(2):
        await gql.execute(query)
    assert len(cache) == 0
    assert cache.stats.hits == 0


async def test_metrics_count_hits_misses_and_invalidations(
    app: Starlette, http: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    report = await submit(gql)
    for _ in range(3):
        await gql.data(ONE, id=report["id"])
    await gql.data(VERIFY, id=report["id"], v=report["version"], key=key())
    metrics = (await http.get("/metrics")).text
    values = {
        line.split()[0]: float(line.split()[1])
        for line in metrics.splitlines()
        if line.startswith("sp4n_cache_")
    }
    assert values["sp4n_cache_hits_total"] == 2
    assert values["sp4n_cache_misses_total"] == 1
    assert values["sp4n_cache_invalidations_total"] == 1
    assert values["sp4n_cache_entries"] == 0
    assert values["sp4n_cache_bytes"] == 0


async def test_two_hub_processes_converge_within_a_second(
    app: Starlette, settings: Settings, http: httpx.AsyncClient
) -> None:
    """Two hubs with caches on one database: a change made through one is seen by the
    other's cached answers within a second."""
    other = create_app(settings)
    async with (
        other.router.lifespan_context(other),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=other), base_url="http://other.test"
        ) as other_http,
    ):
        here = GraphQLClient(http, await token_for(app, "two-a", "16", ["province:admin"]))
        there = GraphQLClient(other_http, await token_for(other, "two-b", "16", ["province:admin"]))
        report = await submit(here)
        await asyncio.sleep(0.3)  # the other hub's feed is live
        for _ in range(2):  # cached over there
            assert (await there.data(ONE, id=report["id"]))["report"]["state"] == "SUBMITTED"
        assert other.state.cache.stats.hits >= 1
        await here.data(VERIFY, id=report["id"], v=report["version"], key=key())
        changed = time.monotonic()
        while (await there.data(ONE, id=report["id"]))["report"]["state"] != "VERIFIED":
            assert time.monotonic() - changed < 1.0, "the other hub still answers the old state"
            await asyncio.sleep(0.02)
