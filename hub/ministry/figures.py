"""The ministry's figures as plain values: counts, stage compliance, ranking entries.

Nothing here names a report, a reporter or a text: every value is a count, a
share or a number of working days (see ``hub.ministry`` for the definitions).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime

from hub.ministry.period import Period
from schema.institutions import InstitutionLevel
from schema.sla import SlaStage

COMPLIANCE_STAGES = (SlaStage.VERIFY, SlaStage.FIRST_FOLLOW_UP, SlaStage.COMPLETION)
"""The stages measured for compliance; AUTO_CLOSE is the hub's own doing."""


class GroupBy(enum.Enum):
    REGION = "REGION"
    INSTITUTION = "INSTITUTION"
    """The institution handling the report now (after the last disposition)."""
    KIND = "KIND"
    TOPIC = "TOPIC"
    STATE = "STATE"
    MONTH = "MONTH"
    """Month of submission, WIB, as ``YYYY-MM``."""
    RULE_VERSION = "RULE_VERSION"

    @property
    def dim(self) -> str:
        """The roll-up dimension that serves this grouping."""
        return "ALL" if self is GroupBy.MONTH else self.value

    @property
    def by_month(self) -> bool:
        return self is GroupBy.MONTH


@dataclass(frozen=True, slots=True)
class Counts:
    """How many reports of a group reached each point of the life cycle."""

    received: int = 0
    anonymous: int = 0
    confidential: int = 0
    verified: int = 0
    """Left verification: entered VERIFIED or DISPOSED."""
    disposed: int = 0
    followed_up: int = 0
    completed: int = 0
    """Entered COMPLETED at least once."""
    auto_closed: int = 0
    """Completed by the hub's auto-close (the SYSTEM actor)."""
    archived: int = 0
    redisposed: int = 0
    """Re-disposed at least once (bukan wewenang)."""
    redispositions: int = 0
    """Re-dispositions in all: every disposition after the first."""

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


@dataclass(frozen=True, slots=True)
class StageFigures:
    """Compliance with one stage's limit in a group."""

    stage: SlaStage
    met: int = 0
    late: int = 0
    """Ended after the due time."""
    overdue: int = 0
    """Still running after the due time."""
    pending: int = 0
    """Still running, due time not yet passed."""
    median_days: int | None = None
    """Nearest-rank median of working days taken by the stages that ended."""
    p90_days: int | None = None

    @property
    def breached(self) -> int:
        return self.late + self.overdue

    @property
    def decided(self) -> int:
        return self.met + self.breached

    @property
    def within_limit_share(self) -> float | None:
        """MET / (MET + LATE + OVERDUE); None when nothing is decided yet."""
        return self.met / self.decided if self.decided else None


@dataclass(frozen=True, slots=True)
class StatisticsGroup:
    key: str
    label: str
    counts: Counts | None
    """None: suppressed, the group is smaller than the threshold."""


@dataclass(frozen=True, slots=True)
class Statistics:
    period: Period
    current_to: datetime
    """Every change committed before this time is counted (the roll-ups are a
    projection of the changes, a moment behind them)."""
    group_by: GroupBy
    rule_versions: tuple[str, ...]
    """The rule versions the period's reports were judged by."""
    suppress_below: int
    total: Counts | None
    groups: tuple[StatisticsGroup, ...]


@dataclass(frozen=True, slots=True)
class SlaGroup:
    key: str
    label: str
    stages: tuple[StageFigures, ...] | None
    """One per compliance stage; None: suppressed."""


@dataclass(frozen=True, slots=True)
class SlaCompliance:
    period: Period
    current_to: datetime
    """Every change committed before this time is counted (the roll-ups are a
    projection of the changes, a moment behind them)."""
    as_of: date
    """The WIB date that decides which running stages are overdue."""
    group_by: GroupBy
    rule_versions: tuple[str, ...]
    suppress_below: int
    total: tuple[StageFigures, ...] | None
    groups: tuple[SlaGroup, ...]


@dataclass(frozen=True, slots=True)
class RankingEntry:
    """One institution's figures as the ministry pulls them; None where suppressed."""

    rank: int | None
    code: str
    name: str
    level: InstitutionLevel
    suppressed: bool
    received: int | None = None
    score: float | None = None
    verified_within_limit: float | None = None
    first_follow_up_within_limit: float | None = None
    completed_within_limit: float | None = None
    completed_share: float | None = None
    archived_or_redisposed_share: float | None = None
    anonymous_share: float | None = None
    confidential_share: float | None = None
    median_verify_days: int | None = None
    median_first_follow_up_days: int | None = None
    median_completion_days: int | None = None
    redispositions: int | None = None


@dataclass(frozen=True, slots=True)
class Ranking:
    period: Period
    current_to: datetime
    """Every change committed before this time is counted (the roll-ups are a
    projection of the changes, a moment behind them)."""
    as_of: date
    level: InstitutionLevel | None
    rule_versions: tuple[str, ...]
    suppress_below: int
    entries: tuple[RankingEntry, ...]


@dataclass(frozen=True, slots=True)
class DeclineEntry:
    """How often reports forwarded to one institution came back declined; None where
    suppressed (fewer forwarded than the threshold)."""

    code: str
    name: str
    level: InstitutionLevel
    suppressed: bool
    forwarded: int | None = None
    """Times a report of the period was forwarded to it (declines sent back excluded)."""
    declined: int | None = None
    """Of those, how many it declined as not its competence (Bukan Wewenang)."""

    @property
    def rate(self) -> float | None:
        """The wrong-disposition rate: declined / forwarded."""
        if self.forwarded is None or self.declined is None:
            return None
        return self.declined / self.forwarded


@dataclass(frozen=True, slots=True)
class Declines:
    period: Period
    current_to: datetime
    """Read from the index itself, not the roll-ups: every change committed before this."""
    level: InstitutionLevel | None
    suppress_below: int
    entries: tuple[DeclineEntry, ...]
    """Most declined share first, then the suppressed ones by code."""


@dataclass(frozen=True, slots=True)
class SatisfactionEntry:
    """Reporters' ratings of one institution's completed reports; None where suppressed
    (fewer completed than the threshold)."""

    code: str
    name: str
    level: InstitutionLevel
    suppressed: bool
    completed: int | None = None
    """Reports of the period it completed (COMPLETED now)."""
    rated: int | None = None
    average: float | None = None
    """Mean score of the rated ones, 1 to 5; None when none was rated."""

    @property
    def rated_share(self) -> float | None:
        if self.completed is None or self.rated is None:
            return None
        return self.rated / self.completed


@dataclass(frozen=True, slots=True)
class Satisfaction:
    period: Period
    current_to: datetime
    """Read from the index itself, not the roll-ups: every change committed before this."""
    level: InstitutionLevel | None
    suppress_below: int
    entries: tuple[SatisfactionEntry, ...]
    """Best average first, then those without ratings, then the suppressed ones."""


def suppressed(sizes: Mapping[str, int], threshold: int, *, with_total: bool) -> set[str]:
    """Keys of the groups to withhold: the small ones, and beside a published total a
    second one when a single group would otherwise be recoverable by subtraction."""
    small = {key for key, size in sizes.items() if size < threshold}
    if with_total and len(small) == 1 and len(sizes) > 1:
        smallest = min((size, key) for key, size in sizes.items() if key not in small)
        small.add(smallest[1])
    return small


def ranking_entry(
    code: str,
    name: str,
    level: InstitutionLevel,
    counts: Counts,
    stages: Mapping[SlaStage, StageFigures],
) -> RankingEntry:
    """An unranked entry with every figure of one institution."""
    verify = stages.get(SlaStage.VERIFY, StageFigures(SlaStage.VERIFY))
    follow = stages.get(SlaStage.FIRST_FOLLOW_UP, StageFigures(SlaStage.FIRST_FOLLOW_UP))
    complete = stages.get(SlaStage.COMPLETION, StageFigures(SlaStage.COMPLETION))
    received = counts.received
    completed_share = counts.completed / received
    shares = [
        verify.within_limit_share,
        follow.within_limit_share,
        complete.within_limit_share,
        completed_share,
    ]
    known = [s for s in shares if s is not None]
    return RankingEntry(
        rank=None,
        code=code,
        name=name,
        level=level,
        suppressed=False,
        received=received,
        score=sum(known) / len(known),
        verified_within_limit=verify.within_limit_share,
        first_follow_up_within_limit=follow.within_limit_share,
        completed_within_limit=complete.within_limit_share,
        completed_share=completed_share,
        archived_or_redisposed_share=(counts.archived + counts.redisposed) / received,
        anonymous_share=counts.anonymous / received,
        confidential_share=counts.confidential / received,
        median_verify_days=verify.median_days,
        median_first_follow_up_days=follow.median_days,
        median_completion_days=complete.median_days,
        redispositions=counts.redispositions,
    )
