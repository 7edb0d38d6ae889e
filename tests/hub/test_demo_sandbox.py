"""What the demo forgets of the previous run's sandbox, and what it keeps."""

from __future__ import annotations

from datetime import UTC, datetime

from hub.demo.sandbox import forget_sandbox
from hub.domain.commands import Actor, Submit
from hub.domain.service import ReportService
from hub.ingest.pull import HubDirectory
from hub.store.database import Database
from schema.report import ActorRole, Channel, ReportKind


async def test_a_fresh_sandbox_is_pulled_from_the_start_and_gets_the_hubs_reports_anew(
    database_url: str,
) -> None:
    db = Database(database_url, min_size=1, max_size=2)
    await db.open()
    try:
        await db.migrate()
        # A report the regency's system holds itself (pulled from it), which the hub
        # then created at LAPOR!, which gave it its own id.
        report = await ReportService(db).execute(
            Submit(
                kind=ReportKind.ASPIRATION, title="Taman kota", content="Perlu bangku.",
                region_code="16.71", topic_id=601, channel=Channel.INTEGRATED_APP,
                external_node="16.71", external_id="1671-00001",
            ),
            Actor("16.71", ActorRole.NODE_SYSTEM, everywhere=True),
        )  # fmt: skip
        await HubDirectory(db).link(str(report.id), "lapor", "1916449")
        # A citizen filed one at the regency during the last run's ticks: the reset
        # system will hand its id out again, to another report.
        filed = await ReportService(db).execute(
            Submit(
                kind=ReportKind.ASPIRATION, title="Lampu jalan", content="Mati seminggu.",
                region_code="16.71", topic_id=301, channel=Channel.INTEGRATED_APP,
                external_node="16.71", external_id="1671-00031",
            ),
            Actor("16.71", ActorRole.NODE_SYSTEM, everywhere=True),
        )  # fmt: skip
        for node in ("16.71", "lapor", "16.01"):
            await db.execute("upsert_watermark", node, "42", datetime.now(UTC), 1)

        held = {"16.71": ["1671-00001", "1671-00002"], "lapor": ["1916001"]}
        await forget_sandbox(database_url, held)

        marks = {r["node_code"] for r in await db.fetch("watermarks")}
        assert marks == {"16.01"}
        refs = await db.fetch("external_refs_of_report", report.id)
        assert [(r["node_code"], r["external_id"]) for r in refs] == [("16.71", "1671-00001")]
        assert await db.fetch("external_refs_of_report", filed.id) == []
    finally:
        await db.close()
