"""Which nodes an event concerns: the report's region and origin, every institution
in its disposition chain, and the national SP4N-LAPOR! for every report."""

from __future__ import annotations

from collections.abc import Mapping

from schema.events import ReportEvent
from schema.nodes import NATIONAL_NODE


def involved_nodes(event: ReportEvent, institution_nodes: Mapping[str, str]) -> frozenset[str]:
    """Node codes that must hear about ``event``.

    Regional node codes equal their region's Kemendagri code, so the region of
    the report names its node directly.
    """
    nodes = {NATIONAL_NODE, event.origin_node, event.region_code}
    for code in event.institution_codes:
        node = institution_nodes.get(code)
        if node is not None:
            nodes.add(node)
    return frozenset(nodes)
