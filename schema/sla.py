"""The versioned service-level rule table, as data.

PermenPANRB 62/2018 has been replaced by 5/2025, whose numbers were not found;
so rules carry a version and each report records the version it was judged by.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from schema.report import ComplaintSubKind, ReportKind


class SlaStage(enum.Enum):
    VERIFY = "VERIFY"
    """Verify and forward after submission."""
    FIRST_FOLLOW_UP = "FIRST_FOLLOW_UP"
    """First follow-up after disposition."""
    COMPLETION = "COMPLETION"
    AUTO_CLOSE = "AUTO_CLOSE"
    """Close after a follow-up with no reply from reporter or admin."""


@dataclass(frozen=True, slots=True)
class SlaRule:
    version: str
    stage: SlaStage
    kind: ReportKind | None
    """None: the rule applies to every kind."""
    sub_kind: ComplaintSubKind | None
    working_days: int
    source: str


CURRENT_SLA_VERSION = "2018-62"

_V = CURRENT_SLA_VERSION
_APP = "official LAPOR! app text"
_PERMEN = "PermenPANRB 62/2018 as quoted by a regency"

SLA_RULES: tuple[SlaRule, ...] = (
    SlaRule(_V, SlaStage.VERIFY, None, None, 3, _APP),
    SlaRule(_V, SlaStage.FIRST_FOLLOW_UP, None, None, 5, _APP),
    SlaRule(_V, SlaStage.AUTO_CLOSE, None, None, 10, _APP),
    SlaRule(
        _V, SlaStage.COMPLETION, ReportKind.COMPLAINT, ComplaintSubKind.NON_SUPERVISORY, 14, _PERMEN
    ),
    SlaRule(
        _V, SlaStage.COMPLETION, ReportKind.COMPLAINT, ComplaintSubKind.SUPERVISORY, 60, _PERMEN
    ),
    SlaRule(_V, SlaStage.COMPLETION, ReportKind.ASPIRATION, None, 5, _PERMEN),
    SlaRule(_V, SlaStage.COMPLETION, ReportKind.INFORMATION_REQUEST, None, 5, _PERMEN),
)


def rule_for(
    rules: tuple[SlaRule, ...],
    version: str,
    stage: SlaStage,
    kind: ReportKind,
    sub_kind: ComplaintSubKind | None,
) -> SlaRule | None:
    """The most specific rule of ``version`` for a stage and a report kind."""
    candidates = [
        r
        for r in rules
        if r.version == version
        and r.stage is stage
        and r.kind in (None, kind)
        and r.sub_kind in (None, sub_kind)
    ]
    candidates.sort(key=lambda r: (r.kind is not None, r.sub_kind is not None), reverse=True)
    return candidates[0] if candidates else None
