"""What the demo forgets of the previous run's sandbox, and what it keeps."""

from __future__ import annotations

from datetime import UTC, datetime

from hub.demo import forget_sandbox
from hub.domain.commands import Actor, Submit
from hub.domain.service import ReportService
from hub.ingest import HubDirectory
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
        for node in ("16.71", "lapor", "16.01"):
            await db.execute("upsert_watermark", node, "42", datetime.now(UTC), 1)

        await forget_sandbox(database_url, ("16.71", "lapor"))

        marks = {r["node_code"] for r in await db.fetch("watermarks")}
        assert marks == {"16.01"}
        refs = await db.fetch("external_refs_of_report", report.id)
        assert [(r["node_code"], r["external_id"]) for r in refs] == [("16.71", "1671-00001")]
    finally:
        await db.close()
