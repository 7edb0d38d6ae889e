"""Bounded storage: a year of changes, then the retention jobs leave each table at what
its window allows, never passing the roll-ups' projection, and a cancelled pass
leaves nothing half-done."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette

from hub import wiring
from hub.errors import ConfigError
from hub.security.audit import AuditLog
from hub.settings import RetentionSettings
from hub.store.database import Database
from hub.store.outbox_tail import OutboxTail
from hub.store.retention import Retention
from hub.sync.bus import EVENTS_HELD_DAYS, EVENTS_TOPIC_CONFIG
from infra.postgres import EmbeddedPostgres
from tests.fixtures.app import GraphQLClient
from tests.hub.operations import SUBMIT, key, submission

DAYS = 365
CHUNKS = 12
"""The year is written in this many transactions, oldest first (each its own xid)."""
STUCK = 3
"""Outbox rows of the oldest day never published (the relay is stuck on them)."""
SEGMENT = 5_000


@dataclass(frozen=True)
class Year:
    per_day: int
    chunk_days: list[list[int]]
    """The days ago each chunk's transaction wrote, oldest chunk first."""
    xids: list[int]
    """Each chunk's transaction id."""

    def rows(self, days: int) -> int:
        """Rows per table of the newest ``days`` days."""
        return min(days, DAYS) * self.per_day


async def _write_year(conn: asyncpg.Connection, per_day: int) -> Year:
    """A year of changes, set-wise: per day ``per_day`` outbox rows (published, but for
    ``STUCK`` of the oldest day), two inbox rows per event, an idempotency key and an
    audit entry per change (every 50th an import page), and one review item resolved
    that day."""
    days = list(range(DAYS - 1, -1, -1))
    size = -(-DAYS // CHUNKS)
    chunks = [days[i : i + size] for i in range(0, DAYS, size)]
    xids = []
    for chunk in chunks:
        async with conn.transaction():
            xids.append(int(await conn.fetchval("SELECT pg_current_xact_id()::text")))
            args = (chunk, per_day)
            await conn.execute(
                """
                CREATE TEMP TABLE year ON COMMIT DROP AS
                SELECT d, i, now() - make_interval(days => d, secs => i) AS at,
                       gen_random_uuid() AS event_id, gen_random_uuid() AS report_id
                FROM unnest($1::int[]) AS d, generate_series(0, $2 - 1) AS i
                """,
                *args,
            )
            await conn.execute(
                """
                INSERT INTO outbox (event_id, report_id, version, event_type, data,
                                    created_at, published_at)
                SELECT event_id, report_id, 1, 'submitted', '{}', at,
                       CASE WHEN d = $1 AND i < $2 THEN NULL ELSE at END
                FROM year ORDER BY year.at
                """,
                DAYS - 1,
                STUCK,
            )
            await conn.execute(
                """
                INSERT INTO sink_inbox (node_code, event_id, report_id, version, outcome,
                                        received_at)
                SELECT n, event_id, report_id, 1, 'APPLIED', at
                FROM year, unnest(ARRAY['16', '16.71']) AS n
                """
            )
            await conn.execute(
                """
                INSERT INTO idempotency_keys (scope, key, request_hash, report_id, version,
                                              created_at)
                SELECT '16.71', 'key-' || d || '-' || i, 'h', report_id, 1, at FROM year
                """
            )
            await conn.execute(
                """
                INSERT INTO audit_log (at, client_id, node_code, action, report_id, outcome)
                SELECT at, 'c', '16.71', CASE WHEN i % 50 = 0 THEN 'IMPORT' ELSE 'SUBMIT' END,
                       report_id, 'OK'
                FROM year ORDER BY year.at
                """
            )
            await conn.execute(
                """
                INSERT INTO review_queue (node_code, external_id, external_version, raw_state,
                                          reason, received_at, resolved_at, resolution)
                SELECT '16.71', 'ext-' || d, '1', 'Aneh', 'UNMAPPED_STATUS', at, at, 'DISMISS'
                FROM year WHERE i = 0
                """
            )
    return Year(per_day, chunks, xids)


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url)
    try:
        yield conn
    finally:
        await conn.close()


async def _seal_all(audit: AuditLog) -> None:
    while await audit.seal(batch=20_000):
        pass


async def _count(conn: asyncpg.Connection, table: str) -> int:
    return int(await conn.fetchval(f"SELECT count(*) FROM {table}"))


def _retention(db: Database, **windows: int) -> Retention:
    return wiring.retention(db, AuditLog(db), RetentionSettings(**windows))


async def test_a_year_of_changes_is_bounded_by_the_windows(
    db: Database, conn: asyncpg.Connection
) -> None:
    year = await _write_year(conn, per_day=100)
    audit = AuditLog(db)
    await _seal_all(audit)
    # Two old review items stay: one still open, one a learned status label cites.
    await conn.execute(
        "UPDATE review_queue SET resolved_at = NULL, resolution = NULL WHERE external_id = $1",
        "ext-300",
    )
    cited = await conn.fetchval("SELECT id FROM review_queue WHERE external_id = 'ext-200'")
    await conn.execute(
        "INSERT INTO node_vocabulary (node_code, raw_state, version, state, decided_at, "
        "decided_by, review_id) VALUES ('16.71', 'Aneh', 1, 'VERIFIED', now(), 'admin', $1)",
        cited,
    )
    imports = await conn.fetchval("SELECT count(*) FROM audit_log WHERE action = 'IMPORT'")
    # The roll-ups' projection has passed only the first 8 of the 12 transactions.
    await conn.execute("UPDATE ministry_projection SET horizon = $1::text::xid8", str(year.xids[8]))
    retention = _retention(db, audit_segment=SEGMENT)

    took = await retention.run_once()

    not_passed = sum(len(days) for days in year.chunk_days[8:]) * year.per_day
    assert await _count(conn, "outbox") == not_passed + STUCK
    assert await _count(conn, "sink_inbox") == 2 * year.rows(EVENTS_HELD_DAYS)
    assert await _count(conn, "idempotency_keys") == year.rows(7)
    assert await _count(conn, "review_queue") == 90 + 2
    # Entries older than 90 days fill 5 whole segments; the rest is kept.
    old = year.rows(DAYS) - year.rows(90)
    archived = old // SEGMENT * SEGMENT
    assert await _count(conn, "audit_segments") == old // SEGMENT == 5
    assert await _count(conn, "audit_log") == year.rows(DAYS) - archived
    assert took == {
        "outbox": year.rows(DAYS) - not_passed - STUCK,
        "sink_inbox": 2 * (year.rows(DAYS) - year.rows(EVENTS_HELD_DAYS)),
        "idempotency_keys": year.rows(DAYS) - year.rows(7),
        "review_queue": DAYS - 90 - 2,
        "audit_log": archived,
        "user_sessions": 0,
        "login_throttle": 0,
    }
    # Nothing the projection has not passed is gone: every row from its horizon on is there.
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE xid >= (SELECT horizon FROM ministry_projection)"
        )
        == not_passed
    )
    # The whole history still proves itself, and the import count did not move.
    assert await AuditLog(db).verify() == (year.rows(DAYS), await _head(conn), None)
    assert await conn.fetchval(_IMPORTS) == imports

    # Once the projection has caught up, only the window (and the stuck rows) stays.
    await conn.execute("UPDATE ministry_projection SET horizon = pg_current_xact_id()")
    await retention.run_once()
    assert await _count(conn, "outbox") == year.rows(7) + STUCK
    assert retention.stats["outbox"].deleted == year.rows(DAYS) - year.rows(7) - STUCK

    # A reader of the tail that had not passed the deleted rows learns it missed some.
    async with db.session() as session:
        assert (await OutboxTail(0).read(session)).gap
        assert not (await (await OutboxTail.from_now(session)).read(session)).gap


_IMPORTS = (
    "SELECT (SELECT count(*) FROM audit_log WHERE action = 'IMPORT') "
    "+ (SELECT coalesce(sum(imports), 0) FROM audit_segments)"
)


async def _head(conn: asyncpg.Connection) -> str:
    return str(await conn.fetchval("SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1"))


async def test_a_cancelled_pass_leaves_every_table_consistent(
    db: Database, conn: asyncpg.Connection
) -> None:
    year = await _write_year(conn, per_day=60)
    audit = AuditLog(db)
    await _seal_all(audit)
    await conn.execute("UPDATE ministry_projection SET horizon = pg_current_xact_id()")
    inbox = await _count(conn, "sink_inbox")
    retention = _retention(db, batch=500, audit_segment=1_000)

    async def cancelled_during(table: str) -> None:
        task = asyncio.create_task(retention.run_once())
        deadline = asyncio.get_running_loop().time() + 60
        while retention.stats[table].deleted < 2_000:
            assert asyncio.get_running_loop().time() < deadline, f"{table} never pruned"
            await asyncio.sleep(0.001)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    # Cancelled in the middle of the inbox: it lost whole batches, nothing else...
    await cancelled_during("sink_inbox")
    left = await _count(conn, "sink_inbox")
    assert left > 2 * year.rows(EVENTS_HELD_DAYS)
    assert (inbox - left) % 500 == 0
    # ...and in the middle of the audit archive.
    await cancelled_during("audit_log")
    # The outbox mark covers every transaction whose rows went...
    mark = await conn.fetchval("SELECT pruned_below::text::bigint FROM outbox_retention")
    assert year.xids[-2] < mark <= year.xids[-1] + 1
    # ...and each segment holds whole runs of entries no longer in the log.
    segments = await conn.fetch("SELECT first_seq, last_seq, entries FROM audit_segments")
    assert segments
    assert all(s["entries"] == 1_000 for s in segments)
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM audit_log a JOIN audit_segments s "
            "ON a.seq BETWEEN s.first_seq AND s.last_seq"
        )
        == 0
    )
    assert await _count(conn, "audit_log") + 1_000 * len(segments) == year.rows(DAYS)
    assert (await audit.verify())[2] is None

    # The next pass finishes the job to the same bounded state.
    await retention.run_once()
    assert await _count(conn, "sink_inbox") == 2 * year.rows(EVENTS_HELD_DAYS)
    assert await _count(conn, "outbox") == year.rows(7) + STUCK
    old = year.rows(DAYS) - year.rows(90)
    assert await _count(conn, "audit_log") == year.rows(DAYS) - old // 1_000 * 1_000
    assert (await audit.verify())[:1] == (year.rows(DAYS),)


async def test_the_loop_stops_on_its_event(db: Database, conn: asyncpg.Connection) -> None:
    await _write_year(conn, per_day=5)
    retention = _retention(db)
    stop = asyncio.Event()
    task = asyncio.create_task(retention.run(stop))
    deadline = asyncio.get_running_loop().time() + 60
    while retention.stats["audit_log"].last_run is None:
        assert asyncio.get_running_loop().time() < deadline, "no pass finished in 60 s"
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert await _count(conn, "idempotency_keys") == 5 * 7
    assert all(s.errors == 0 for s in retention.stats.values())


@pytest.mark.parametrize(
    ("windows", "variable"),
    [
        ({"inbox_days": EVENTS_HELD_DAYS - 1}, "SP4N_RETENTION_INBOX_DAYS"),
        ({"idempotency_days": 0}, "SP4N_IDEMPOTENCY_DAYS"),
        ({"batch": 0}, "SP4N_RETENTION_BATCH"),
    ],
)
def test_a_bad_window_stops_the_start_naming_its_variable(
    windows: dict[str, int], variable: str
) -> None:
    with pytest.raises(ConfigError, match=variable):
        RetentionSettings(**windows)
    env = {variable: str(next(iter(windows.values())))}
    with pytest.raises(ConfigError, match=variable):
        RetentionSettings.from_env(env)


async def test_a_retry_inside_the_window_is_answered_and_a_key_past_it_is_forgotten(
    app: Starlette, gql: GraphQLClient, http: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    inside, past = key(), key()
    first = (await gql.data(SUBMIT, input=submission(), key=inside))["submitReport"]
    old = (await gql.data(SUBMIT, input=submission(), key=past))["submitReport"]
    # `past` was used eight days ago; the window is seven.
    await conn.execute(
        "UPDATE idempotency_keys SET created_at = now() - interval '8 days' WHERE key = $1", past
    )
    await app.state.retention.run_once()

    again = (await gql.data(SUBMIT, input=submission(), key=inside))["submitReport"]
    assert again["id"] == first["id"]  # the retry gets the first answer, nothing duplicated
    later = (await gql.data(SUBMIT, input=submission(), key=past))["submitReport"]
    assert later["id"] != old["id"]  # forgotten: the same key is a new submission
    assert await conn.fetchval("SELECT count(*) FROM reports") == 3

    # /metrics shows what each job did, when it last ran, and no errors.
    text = (await http.get("/metrics")).text
    assert 'sp4n_retention_rows_deleted_total{table="idempotency_keys"} 1.0' in text
    assert 'sp4n_retention_rows_deleted_total{table="outbox"} 0.0' in text
    for table in ("outbox", "sink_inbox", "idempotency_keys", "review_queue", "audit_log"):
        assert f'sp4n_retention_errors_total{{table="{table}"}} 0.0' in text
        line = f'sp4n_retention_last_run_timestamp_seconds{{table="{table}"}} '
        ran = float(text.split(line)[1].split()[0])
        assert time.time() - 60 < ran <= time.time()


def test_the_inbox_outlives_every_record_the_events_topic_may_still_hold() -> None:
    """A record goes once its segment is past retention: at most one segment late."""
    held_ms = int(EVENTS_TOPIC_CONFIG["retention.ms"]) + int(EVENTS_TOPIC_CONFIG["segment.ms"])
    assert RetentionSettings().inbox_days * 86_400_000 >= held_ms
    assert held_ms <= EVENTS_HELD_DAYS * 86_400_000


async def test_a_cache_feed_that_missed_pruned_rows_empties_the_cache(
    app: Starlette, gql: GraphQLClient, conn: asyncpg.Connection
) -> None:
    report = (await gql.data(SUBMIT, input=submission(), key=key()))["submitReport"]
    query = "query($id: ID!) { report(id: $id) { title } }"
    public = GraphQLClient(gql.http)
    assert (await public.data(query, id=report["id"]))["report"]["title"].startswith("Jalan")
    hits = app.state.cache.stats.hits
    await public.data(query, id=report["id"])
    assert app.state.cache.stats.hits == hits + 1  # cached
    # A change whose outbox row the retention job deleted before this process's feed
    # read it (the feed was away): the feed learns it missed rows from the mark.
    async with conn.transaction():
        await conn.execute("UPDATE reports SET title = 'Judul baru' WHERE id = $1", report["id"])
        await conn.execute(
            "UPDATE outbox_retention SET pruned_below = "
            "(pg_current_xact_id()::text::bigint + 1)::text::xid8"
        )
    await app.state.cache_feed.catch_up()
    assert (await public.data(query, id=report["id"]))["report"]["title"] == "Judul baru"


async def test_the_loop_rides_out_a_database_outage(own_postgres: EmbeddedPostgres) -> None:
    db = Database(own_postgres.url(), min_size=1, max_size=2)
    await db.open()
    try:
        await db.migrate()
        async with db.session() as session:
            await session.raw.execute(
                "INSERT INTO idempotency_keys (scope, key, request_hash, report_id, version, "
                "created_at) SELECT '16.71', 'k' || i, 'h', gen_random_uuid(), 1, "
                "now() - interval '30 days' FROM generate_series(1, 50) AS i"
            )
        await asyncio.to_thread(own_postgres.stop)
        retention = _retention(db)
        stop = asyncio.Event()
        task = asyncio.create_task(retention.run(stop))
        deadline = asyncio.get_running_loop().time() + 60
        while retention.stats["outbox"].errors < 3:  # refused, waiting with backoff
            assert asyncio.get_running_loop().time() < deadline, "no retries seen"
            await asyncio.sleep(0.05)
        assert not task.done()
        await asyncio.to_thread(own_postgres.start)
        while retention.stats["audit_log"].last_run is None:  # a whole pass, once back
            assert asyncio.get_running_loop().time() < deadline + 60, "never recovered"
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(task, 10)
        assert retention.stats["idempotency_keys"].deleted == 50
    finally:
        await db.close()


async def test_two_processes_pruning_at_once_take_each_row_once(
    db: Database, conn: asyncpg.Connection
) -> None:
    year = await _write_year(conn, per_day=20)
    await _seal_all(AuditLog(db))
    await conn.execute("UPDATE ministry_projection SET horizon = pg_current_xact_id()")
    one, two = _retention(db, batch=200), _retention(db, batch=200)
    await asyncio.gather(one.run_once(), two.run_once())
    everything = year.rows(DAYS)
    for table, before, kept in (
        ("outbox", everything, year.rows(7) + STUCK),
        ("sink_inbox", 2 * everything, 2 * year.rows(EVENTS_HELD_DAYS)),
        ("idempotency_keys", everything, year.rows(7)),
    ):
        assert await _count(conn, table) == kept
        assert one.stats[table].deleted + two.stats[table].deleted == before - kept
        assert one.stats[table].errors == two.stats[table].errors == 0
