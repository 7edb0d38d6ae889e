"""A reproducible stream of changes over all 19 nodes, and what each node must end up with."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import MISSING, fields
from typing import Any

import asyncpg

from hub.domain.commands import TRANSITION_COMMANDS, Actor, Submit, Transition
from hub.domain.core import allowed_verbs
from hub.domain.service import ReportService
from hub.store.rows import ReportRow
from schema.institutions import INSTITUTIONS
from schema.lifecycle import ReportState, Verb
from schema.nodes import NATIONAL_NODE, NODES
from schema.regions import REGIONS
from schema.report import ActorRole, ArchiveReason, Channel, ComplaintSubKind, ReportKind

_TARGETS = [i.code for i in INSTITUTIONS]
_REGIONS = [r.code for r in REGIONS]

MIX: Mapping[Verb, float] = {
    Verb.VERIFY: 2, Verb.POSTPONE: 1, Verb.DISPOSE: 1, Verb.FOLLOW_UP: 2, Verb.COMPLETE: 2,
    Verb.REOPEN: 1, Verb.ARCHIVE: 0.5,
}  # fmt: skip
"""How often each verb is chosen among those the life cycle allows from a report's
state (``hub.domain.core.allowed_verbs``); a verb not named here weighs 1, so a new
verb joins the workload with no edit here."""


def next_command(rng: random.Random, report: ReportRow) -> Transition | None:
    """A move the life cycle allows from the report's state, drawn with ``MIX``'s weights;
    None when no move is left (an archived report)."""
    return command_from(rng, ReportState(report.state), report.id)


def command_from(rng: random.Random, state: ReportState, report_id: uuid.UUID) -> Transition | None:
    """``next_command`` for a report in ``state``."""
    verbs = allowed_verbs(state)
    if not verbs:
        return None
    verb = rng.choices(verbs, weights=[MIX.get(v, 1.0) for v in verbs])[0]
    return sample_command(rng, verb, report_id)


def sample_command(rng: random.Random, verb: Verb, report_id: uuid.UUID) -> Transition:
    """The command of ``verb`` for the report, its required fields filled with samples."""
    samples: dict[str, Any] = {
        "note": rng.choice(("lengkapi data", "tindak lanjut", "pelapor membalas")),
        "content": rng.choice(("tindak lanjut", "sedang ditinjau")),
        "institution_code": rng.choice(_TARGETS),
        "reason": rng.choice(list(ArchiveReason)),
    }
    command = TRANSITION_COMMANDS[verb]
    required = [
        f.name for f in fields(command)
        if f.name != "report_id" and f.default is MISSING and f.default_factory is MISSING
    ]  # fmt: skip
    missing = [name for name in required if name not in samples]
    assert not missing, f"the workload has no sample for {verb.value}'s {missing}"
    return command(report_id, **{name: samples[name] for name in required})


def has_moves(report: ReportRow) -> bool:
    """Whether the life cycle allows the report any further move."""
    return bool(allowed_verbs(ReportState(report.state)))


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
            live = [r for r in mine if has_moves(r)]
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
            command = next_command(rng, report)
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
