"""The demo data set: lawful histories, consistent chains, privacy kept, reproducible."""

from __future__ import annotations

import itertools
import re
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from hub.demo.seed import SeedError, seed_reports, seeded_count
from hub.ministry.calendar import CalendarStore
from hub.store.database import Database
from schema.calendar import wib_date
from schema.lifecycle import TRANSITIONS, VERBS, ReportState, Verb, can_apply
from schema.nodes import NATIONAL_NODE, NODES
from schema.regions import PROVINCE_CODE, REGIONS
from schema.report import ReportKind

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
COUNT = 2_000
_COUNT_BY = "SELECT {0}, count(*) AS n FROM reports GROUP BY {0}"


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database_url)
    try:
        yield connection
    finally:
        await connection.close()


@pytest.fixture
async def seeded(conn: asyncpg.Connection) -> asyncpg.Connection:
    """A fresh database holding COUNT seeded reports."""
    seen: list[int] = []
    assert await seed_reports(conn, COUNT, now=NOW, progress=seen.append) == COUNT
    assert seen[-1] == COUNT
    return conn


def _by_report(rows: list[asyncpg.Record]) -> dict[uuid.UUID, list[asyncpg.Record]]:
    grouped: defaultdict[uuid.UUID, list[asyncpg.Record]] = defaultdict(list)
    for row in rows:
        grouped[row["report_id"]].append(row)
    return grouped


def _home(region_code: str) -> str:
    return "pemprov-16" if region_code == PROVINCE_CODE else f"pemda-{region_code}"


async def test_spreads_over_every_state_node_region_and_kind(seeded: asyncpg.Connection) -> None:
    assert await seeded_count(seeded) == COUNT
    states = {r["state"]: r["n"] for r in await seeded.fetch(_COUNT_BY.format("state"))}
    assert set(states) == {s.value for s in ReportState}
    # Most reports are handled; every open or closed-unhandled state is still visible.
    assert states["COMPLETED"] > max(states["IN_FOLLOW_UP"], states["POSTPONED"])
    assert states["COMPLETED"] + states["IN_FOLLOW_UP"] > COUNT // 2
    origins = {r["origin_node"] for r in await seeded.fetch(_COUNT_BY.format("origin_node"))}
    assert origins == {n.code for n in NODES}
    regions = {r["region_code"] for r in await seeded.fetch(_COUNT_BY.format("region_code"))}
    assert regions == {r.code for r in REGIONS}
    kinds = {r["kind"] for r in await seeded.fetch(_COUNT_BY.format("kind"))}
    assert kinds == {k.value for k in ReportKind}
    topics = await seeded.fetchval(
        "SELECT count(*) FROM reports r JOIN topics t ON t.id = r.topic_id "
        "WHERE t.parent_id IS NULL"
    )
    assert topics == 0, "reports are filed under leaf topics only"


async def test_histories_are_paths_of_the_life_cycle(seeded: asyncpg.Connection) -> None:
    reports = {r["id"]: r for r in await seeded.fetch("SELECT * FROM reports")}
    history = _by_report(
        await seeded.fetch("SELECT * FROM report_history ORDER BY report_id, version")
    )
    assert set(history) == set(reports)
    for report_id, entries in history.items():
        report = reports[report_id]
        assert [e["version"] for e in entries] == list(range(1, len(entries) + 1))
        first = entries[0]
        assert (first["verb"], first["from_state"], first["to_state"]) == (
            "SUBMIT",
            None,
            "SUBMITTED",
        )
        assert first["actor_node"] == report["origin_node"]
        previous: ReportState | None = None
        at = first["at"]
        for entry in entries:
            verb = Verb(entry["verb"])
            assert can_apply(verb, previous), (report_id, entry)
            assert entry["from_state"] == (previous.value if previous else None)
            target = ReportState(entry["to_state"])
            assert target is VERBS[verb].target
            assert previous is None or target in TRANSITIONS[previous]
            assert entry["at"] >= at
            if verb in (Verb.POSTPONE, Verb.REOPEN):
                assert entry["note"], "postponing and reopening always say why"
            at, previous = entry["at"], target
        assert report["state"] == entries[-1]["to_state"]
        assert report["version"] == len(entries)
        assert report["submitted_at"] == first["at"]
        assert report["updated_at"] == entries[-1]["at"]
        assert NOW - timedelta(days=731) <= report["submitted_at"] <= report["updated_at"] <= NOW
        assert (report["archive_reason"] is not None) == (report["state"] == "ARCHIVED")


async def test_disposition_chains_lead_to_the_current_institution(
    seeded: asyncpg.Connection,
) -> None:
    reports = {r["id"]: r for r in await seeded.fetch("SELECT * FROM reports")}
    history = _by_report(
        await seeded.fetch("SELECT * FROM report_history ORDER BY report_id, version")
    )
    links = _by_report(await seeded.fetch("SELECT * FROM dispositions ORDER BY report_id, seq"))
    follow_ups = _by_report(await seeded.fetch("SELECT * FROM follow_ups ORDER BY report_id, id"))
    redisposed = declined = 0
    targets: set[str] = set()
    for report_id, report in reports.items():
        chain = links.get(report_id, [])
        disposals = [e for e in history[report_id] if e["verb"] in ("DISPOSE", "DECLINE")]
        assert [link["declined"] for link in chain] == [e["verb"] == "DECLINE" for e in disposals]
        for before, link in itertools.pairwise(chain):
            if link["declined"]:  # back to whoever forwarded it
                declined += 1
                assert link["to_institution"] == before["from_institution"]
        assert [link["seq"] for link in chain] == list(range(1, len(chain) + 1))
        assert [link["at"] for link in chain] == [e["at"] for e in disposals]
        holder = _home(report["region_code"])
        for link in chain:
            assert link["from_institution"] == holder, "each link starts where the last ended"
            assert link["to_institution"] != holder
            holder = link["to_institution"]
            targets.add(holder)
        assert report["institution_code"] == holder
        redisposed += len(chain) > 1
        # Each follow-up comes from the institution holding the report at that moment.
        posted = [e for e in history[report_id] if e["verb"] == "FOLLOW_UP"]
        notes = follow_ups.get(report_id, [])
        assert [f["at"] for f in notes] == [e["at"] for e in posted]
        for note in notes:
            held = [link["to_institution"] for link in chain if link["at"] <= note["at"]]
            assert note["institution_code"] == held[-1]
    assert redisposed > 0, "some reports are re-disposed (bukan wewenang)"
    assert declined > 0, "some dispositions are declined (bukan wewenang)"
    assert {t.split("-")[0] for t in targets} >= {"opd", "pemda", "kl"}


async def test_reporters_answer_follow_ups_and_rate_completed_reports(
    seeded: asyncpg.Connection,
) -> None:
    replies = await seeded.fetch(
        "SELECT p.report_id, p.actor_node, r.origin_node FROM replies p "
        "JOIN reports r ON r.id = p.report_id"
    )
    assert replies, "some reporters answer a follow-up"
    # Each reply is a REPLY of the history, through the app the report came in by.
    assert all(p["actor_node"] == p["origin_node"] for p in replies)
    answered = await seeded.fetchval(
        "SELECT count(*) FROM report_history WHERE verb = 'REPLY' AND actor_role = 'REPORTER'"
    )
    assert answered == len(replies)
    ratings = await seeded.fetch(
        "SELECT g.score, g.institution_code, r.state, r.institution_code AS holder, g.at, "
        "r.updated_at FROM report_ratings g JOIN reports r ON r.id = g.report_id"
    )
    completed = await seeded.fetchval("SELECT count(*) FROM reports WHERE state = 'COMPLETED'")
    assert 0.2 * completed < len(ratings) < 0.5 * completed, "about a third are rated"
    assert {g["state"] for g in ratings} == {"COMPLETED"}
    assert all(g["institution_code"] == g["holder"] and g["at"] > g["updated_at"] for g in ratings)
    assert {g["score"] for g in ratings} == {1, 2, 3, 4, 5}


async def test_external_references_look_like_their_systems(seeded: asyncpg.Connection) -> None:
    origins = {r["id"]: r["origin_node"] for r in await seeded.fetch("SELECT * FROM reports")}
    refs = await seeded.fetch("SELECT * FROM external_refs")
    by_report = _by_report(refs)
    for report_id, origin in origins.items():
        nodes = [r["node_code"] for r in by_report.get(report_id, [])]
        assert len(nodes) == len(set(nodes)), "at most one id per node system"
        if origin == NATIONAL_NODE:
            assert NATIONAL_NODE in nodes, "everything from LAPOR! carries its tracking id"
    lapor = [r["external_id"] for r in refs if r["node_code"] == NATIONAL_NODE]
    assert all(re.fullmatch(r"\d{7}", ref) for ref in lapor)
    others = [r["external_id"] for r in refs if r["node_code"] != NATIONAL_NODE]
    assert others
    assert not any(re.fullmatch(r"\d{7}", ref) for ref in others)
    assert len({(r["node_code"], r["external_id"]) for r in refs}) == len(refs)


async def test_privacy_flags_and_personal_data(seeded: asyncpg.Connection) -> None:
    shares = await seeded.fetchrow(
        "SELECT avg(anonymous::int) AS anonymous, avg(confidential::int) AS confidential, "
        "count(*) FILTER (WHERE anonymous AND confidential) AS both FROM reports"
    )
    assert shares is not None
    assert 0.06 <= shares["anonymous"] <= 0.14
    assert 0.025 <= shares["confidential"] <= 0.08
    assert shares["both"] > 0
    people = await seeded.fetch(
        "SELECT p.*, r.region_code FROM reporters p JOIN reports r ON r.id = p.report_id"
    )
    assert 0.8 * COUNT <= len(people) <= 0.95 * COUNT
    for person in people:
        if person["nik"] is not None:
            digits = person["region_code"].replace(".", "")
            assert person["nik"].startswith(digits), person
        if person["phone"] is not None:
            assert re.fullmatch(r"08\d{9,11}", person["phone"]), person
    texts = "\n".join(
        " ".join(filter(None, (r["title"], r["content"], r["location"], *r["tags"])))
        for r in await seeded.fetch("SELECT title, content, location, tags FROM reports")
    )
    leaked = [
        value
        for person in people
        for value in (person["name"], person["nik"], person["phone"], person["email"])
        if value and (" " in value or value.isdigit() or "@" in value) and value in texts
    ]
    assert leaked == [], "personal data belongs in reporters only"
    assert await seeded.fetchval("SELECT count(*) FROM outbox") == 0, "a load is not a change"


async def test_same_seed_gives_the_same_data(conn: asyncpg.Connection) -> None:
    async def snapshot(seed: int) -> list[list[tuple[object, ...]]]:
        tx = conn.transaction()
        await tx.start()
        try:
            await seed_reports(conn, 300, seed=seed, now=NOW)
            return [
                [tuple(r.values()) for r in await conn.fetch(query)]
                for query in (
                    "SELECT * FROM reports ORDER BY id",
                    "SELECT * FROM reporters ORDER BY report_id",
                    "SELECT * FROM report_history ORDER BY report_id, version",
                    "SELECT * FROM dispositions ORDER BY report_id, seq",
                    # follow_ups.id comes from a sequence that a rollback does not rewind.
                    "SELECT report_id, institution_code, content, actor_node, at "
                    "FROM follow_ups ORDER BY report_id, id",
                    "SELECT * FROM external_refs ORDER BY node_code, external_id",
                )
            ]
        finally:
            await tx.rollback()

    first = await snapshot(7)
    assert all(first), "every table received rows"
    assert await snapshot(7) == first
    assert await snapshot(8) != first


async def test_refuses_an_index_that_already_holds_reports(conn: asyncpg.Connection) -> None:
    await seed_reports(conn, 10, now=NOW)
    with pytest.raises(SeedError, match="already holds 10 reports"):
        await seed_reports(conn, 10, seed=2, now=NOW)
    assert await seeded_count(conn) == 10
    with pytest.raises(ValueError, match="time zone"):
        await seed_reports(conn, 1, now=datetime(2026, 1, 1))


async def test_leaves_no_report_the_auto_close_job_still_owes(database_url: str) -> None:
    """Walks that stop quiet after a follow-up were closed as the job would have closed
    them, so a demo's first start does not close hundreds of old reports at once."""
    db = Database(database_url, min_size=1, max_size=2)
    await db.open()
    try:
        await CalendarStore(db).sync()
        async with db.pool.acquire() as conn:
            await seed_reports(conn, COUNT, now=NOW)
            closed_by_seed = await conn.fetchval(
                "SELECT count(*) FROM report_history WHERE verb = 'COMPLETE'"
                " AND actor_role = 'SYSTEM'"
            )
        assert await db.fetch("ministry_auto_close_due", wib_date(NOW), COUNT) == []
        assert closed_by_seed > COUNT // 20
    finally:
        await db.close()
