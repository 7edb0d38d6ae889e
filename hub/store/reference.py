"""Loads the reference data of ``schema/`` into its tables (once; edits win)."""

from __future__ import annotations

from hub.store.connection import Session
from schema.institutions import INSTITUTIONS
from schema.nodes import NODES
from schema.regions import REGIONS
from schema.sla import SLA_RULES
from schema.topics import TOPICS


async def seed_reference(session: Session) -> None:
    """Inserts every seed row that is not there yet, in one transaction."""
    async with session.transaction():
        await session.executemany(
            "seed_region",
            [(r.code, r.bps_code, r.name, r.type.value, r.parent_code) for r in REGIONS],
        )
        await session.executemany(
            "seed_node", [(n.code, n.name, n.level.value, n.region_code) for n in NODES]
        )
        await session.executemany(
            "seed_institution",
            [
                (i.code, i.name, i.level.value, i.node_code, i.region_code, i.source)
                for i in INSTITUTIONS
            ],
        )
        await session.executemany("seed_topic", [(t.id, t.parent_id, t.name) for t in TOPICS])
        await session.executemany(
            "seed_sla_rule",
            [
                (
                    r.version,
                    r.stage.value,
                    r.kind.value if r.kind else None,
                    r.sub_kind.value if r.sub_kind else None,
                    r.working_days,
                    r.source,
                )
                for r in SLA_RULES
            ],
        )
