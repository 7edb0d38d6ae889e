"""A reproducible stream of changes over all 19 nodes, and what each node must end up with."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import defaultdict

import asyncpg

from hub.domain.commands import (
    Actor,
    Archive,
    Complete,
    Dispose,
    FollowUp,
    Postpone,
    Reopen,
    Submit,
    Transition,
    Verify,
)
from hub.domain.service import ReportService
from hub.store.rows import ReportRow
from schema.institutions import INSTITUTIONS
from schema.lifecycle import ReportState
from schema.nodes import NATIONAL_NODE, NODES
from schema.regions import REGIONS
from schema.report import ActorRole, ArchiveReason, Channel, ComplaintSubKind, ReportKind

_TARGETS = [i.code for i in INSTITUTIONS]
_REGIONS = [r.code for r in REGIONS]


def _next_command(rng: random.Random, report: ReportRow) -> Transition | None:
    state = ReportState(report.state)
    rid = report.id
    options: list[Transition]
    match state:
        case ReportState.SUBMITTED:
            options = [
                Verify(rid),
                Verify(rid),
                Postpone(rid, "lengkapi"),
                Archive(rid, ArchiveReason.UNCLEAR),
            ]
            return rng.choice(options)
        case ReportState.POSTPONED:
            options = [Verify(rid), Archive(rid, ArchiveReason.TOO_GENERAL)]
            return rng.choice(options)
        case ReportState.VERIFIED | ReportState.DISPOSED:
            if state is ReportState.DISPOSED and rng.random() < 0.7:
                return FollowUp(rid, "tindak lanjut")
            return Dispose(rid, rng.choice(_TARGETS))
        case ReportState.IN_FOLLOW_UP:
            options = [
                FollowUp(rid, "lagi"),
                Complete(rid),
                Complete(rid),
                Dispose(rid, rng.choice(_TARGETS)),
            ]
            return rng.choice(options)
        case ReportState.COMPLETED:
            return Reopen(rid, "pelapor membalas")
        case ReportState.ARCHIVED:
            return None


async def drive(
    service: ReportService,
    changes: int,
    *,
    seed: int = 7,
    concurrency: int = 16,
    progress: list[int] | None = None,
) -> None:
    """Runs ``changes`` commands (submissions included) over all 19 nodes.

    Each worker owns its own reports, so no change is refused for a stale version.
    """
    counter = progress if progress is not None else [0]

    async def worker(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        mine: list[ReportRow] = []
        while counter[0] < changes:
            counter[0] += 1
            live = [r for r in mine if r.state != ReportState.ARCHIVED.value]
            if not live or rng.random() < 0.2:
                node = rng.choice(NODES)
                actor = Actor(node.code, ActorRole.INSTITUTION_ADMIN, everywhere=True)
                region = node.region_code or rng.choice(_REGIONS)
                complaint = rng.random() < 0.6
                row = await service.execute(
                    Submit(
                        kind=ReportKind.COMPLAINT if complaint else ReportKind.ASPIRATION,
                        complaint_sub_kind=ComplaintSubKind.SUPERVISORY if complaint else None,
                        title=f"Laporan beban {index}-{len(mine)}",
                        content="Isi.",
                        region_code=region,
                        topic_id=301,
                        channel=Channel.WEB,
                    ),
                    actor,
                )
                mine.append(row)
                continue
            report = rng.choice(live)
            command = _next_command(rng, report)
            assert command is not None
            # Admins of random nodes: sync must not depend on who acted.
            actor = Actor(rng.choice(NODES).code, ActorRole.INSTITUTION_ADMIN, everywhere=True)
            updated = await service.execute(command, actor, expected_version=report.version)
            mine[mine.index(report)] = updated

    await asyncio.gather(*(worker(i) for i in range(concurrency)))


async def expected_holdings(url: str) -> dict[str, dict[str, int]]:
    """For each node: every report it is involved in, with the report's latest version."""
    conn = await asyncpg.connect(url)
    try:
        institutions = {
            r["code"]: r["node_code"]
            for r in await conn.fetch("SELECT code, node_code FROM institutions")
        }
        reports = await conn.fetch(
            "SELECT id, version, origin_node, region_code, institution_code FROM reports"
        )
        chains: defaultdict[uuid.UUID, set[str]] = defaultdict(set)
        for d in await conn.fetch(
            "SELECT report_id, from_institution, to_institution FROM dispositions"
        ):
            chains[d["report_id"]] |= {d["from_institution"], d["to_institution"]}
        holdings: defaultdict[str, dict[str, int]] = defaultdict(dict)
        for r in reports:
            nodes = {NATIONAL_NODE, r["origin_node"], r["region_code"]}
            nodes.add(institutions[r["institution_code"]])
            nodes |= {institutions[c] for c in chains[r["id"]] if c}
            for node in nodes:
                holdings[node][str(r["id"])] = r["version"]
        return {n.code: holdings.get(n.code, {}) for n in NODES}
    finally:
        await conn.close()
