"""GraphQL of the ministry view: ``MinistryQuery`` and the deadline fields of a report.

``MinistryQuery`` is merged into the hub's ``Query`` by inheritance; ``report_deadlines``
and ``report_overdue`` are resolvers for fields of the hub's ``Report`` type. Every
resolver reads ``info.context.ministry`` (a ``MinistryRequest``).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Protocol

import strawberry
from strawberry.types import Info

from hub.api.copying import copied
from hub.ministry import figures
from hub.ministry.context import MinistryContext
from hub.ministry.deadlines import DeadlineStatus, StageDeadline
from hub.ministry.figures import GroupBy
from hub.ministry.period import Period
from schema.institutions import InstitutionLevel
from schema.sla import SlaStage

MinistryInfo = Info[MinistryContext, None]


@strawberry.input(description="Reports submitted from `from` (inclusive) to `to` (exclusive).")
class PeriodInput:
    from_: date = strawberry.field(name="from", description="First day, WIB.")
    to: date = strawberry.field(description="The day after the last, WIB.")

    def to_period(self) -> Period:
        return Period(self.from_, self.to)


_CURRENT_TO = (
    "Every change committed before this time is counted: the figures are a projection "
    "of the changes and follow them by a moment."
)


@strawberry.type(name="Period", description="Reports submitted in [from, to), WIB dates.")
class PeriodInfo:
    from_: date = strawberry.field(name="from")
    to: date
    time_zone: str = "Asia/Jakarta"

    @classmethod
    def of(cls, period: Period) -> PeriodInfo:
        return cls(from_=period.start, to=period.end)


@strawberry.type(description="How many reports of a group reached each point of the life cycle.")
class StatisticsFigures:
    received: int
    anonymous: int
    confidential: int
    verified: int = strawberry.field(description="Entered VERIFIED or DISPOSED.")
    disposed: int
    followed_up: int
    completed: int = strawberry.field(description="Entered COMPLETED at least once.")
    auto_closed: int = strawberry.field(description="Completed by the hub's auto-close.")
    archived: int
    redisposed: int = strawberry.field(description="Re-disposed at least once.")
    redispositions: int = strawberry.field(description="Dispositions after the first.")

    @classmethod
    def of(cls, c: figures.Counts) -> StatisticsFigures:
        return copied(cls, c)


@strawberry.type
class StatisticsGroup:
    key: str
    label: str
    suppressed: bool = strawberry.field(description="Fewer reports than suppressBelow.")
    figures: StatisticsFigures | None


@strawberry.type
class ReportStatistics:
    period: PeriodInfo
    current_to: datetime = strawberry.field(description=_CURRENT_TO)
    group_by: GroupBy
    rule_versions: list[str]
    suppress_below: int
    total: StatisticsFigures | None
    groups: list[StatisticsGroup]

    @classmethod
    def of(cls, s: figures.Statistics) -> ReportStatistics:
        return copied(
            cls,
            s,
            period=PeriodInfo.of(s.period),
            rule_versions=list(s.rule_versions),
            total=StatisticsFigures.of(s.total) if s.total else None,
            groups=[
                StatisticsGroup(
                    key=g.key,
                    label=g.label,
                    suppressed=g.counts is None,
                    figures=StatisticsFigures.of(g.counts) if g.counts else None,
                )
                for g in s.groups
            ],
        )


@strawberry.type(description="Compliance with one stage's limit; durations in working days.")
class StageCompliance:
    stage: SlaStage
    met: int
    late: int = strawberry.field(description="Ended after the due time.")
    overdue: int = strawberry.field(description="Still running after the due time.")
    pending: int = strawberry.field(description="Still running, not yet due.")
    within_limit_share: float | None = strawberry.field(
        description="met / (met + late + overdue); null when nothing is decided."
    )
    median_working_days: int | None
    p90_working_days: int | None

    @classmethod
    def of(cls, f: figures.StageFigures) -> StageCompliance:
        return copied(cls, f, median_working_days=f.median_days, p90_working_days=f.p90_days)


@strawberry.type
class SlaComplianceGroup:
    key: str
    label: str
    suppressed: bool
    stages: list[StageCompliance] | None


@strawberry.type
class SlaCompliance:
    period: PeriodInfo
    current_to: datetime = strawberry.field(description=_CURRENT_TO)
    as_of: date = strawberry.field(description="The WIB date overdue is judged on.")
    group_by: GroupBy
    rule_versions: list[str]
    suppress_below: int
    total: list[StageCompliance] | None
    groups: list[SlaComplianceGroup]

    @classmethod
    def of(cls, s: figures.SlaCompliance) -> SlaCompliance:
        return copied(
            cls,
            s,
            period=PeriodInfo.of(s.period),
            rule_versions=list(s.rule_versions),
            total=[StageCompliance.of(f) for f in s.total] if s.total else None,
            groups=[
                SlaComplianceGroup(
                    key=g.key,
                    label=g.label,
                    suppressed=g.stages is None,
                    stages=[StageCompliance.of(f) for f in g.stages] if g.stages else None,
                )
                for g in s.groups
            ],
        )


@strawberry.type(description="One institution's figures as KemenPAN-RB pulls them.")
class RankingEntry:
    rank: int | None = strawberry.field(description="1 is best; null when suppressed.")
    institution_code: str
    institution_name: str
    level: InstitutionLevel
    suppressed: bool
    received: int | None
    score: float | None = strawberry.field(
        description="Mean of the four shares verified, first follow-up and completed within "
        "the limit, and completed."
    )
    verified_within_limit: float | None
    first_follow_up_within_limit: float | None
    completed_within_limit: float | None
    completed_share: float | None
    archived_or_redisposed_share: float | None
    anonymous_share: float | None
    confidential_share: float | None
    median_verify_working_days: int | None
    median_first_follow_up_working_days: int | None
    median_completion_working_days: int | None
    redispositions: int | None

    @classmethod
    def of(cls, e: figures.RankingEntry) -> RankingEntry:
        return copied(
            cls,
            e,
            institution_code=e.code,
            institution_name=e.name,
            median_verify_working_days=e.median_verify_days,
            median_first_follow_up_working_days=e.median_first_follow_up_days,
            median_completion_working_days=e.median_completion_days,
        )


@strawberry.type
class InstitutionRanking:
    period: PeriodInfo
    current_to: datetime = strawberry.field(description=_CURRENT_TO)
    as_of: date
    level: InstitutionLevel | None
    rule_versions: list[str]
    suppress_below: int
    entries: list[RankingEntry]

    @classmethod
    def of(cls, r: figures.Ranking) -> InstitutionRanking:
        return copied(
            cls,
            r,
            period=PeriodInfo.of(r.period),
            rule_versions=list(r.rule_versions),
            entries=[RankingEntry.of(e) for e in r.entries],
        )


@strawberry.type(name="StageDeadline", description="One stage of a report against its limit.")
class StageDeadlineType:
    stage: SlaStage
    status: DeadlineStatus
    working_days: int | None = strawberry.field(description="The limit.")
    started_at: datetime | None
    due_at: datetime | None = strawberry.field(description="End of the due working day, WIB.")
    ended_at: datetime | None
    breached_at: datetime | None
    working_days_taken: int | None

    @classmethod
    def of(cls, d: StageDeadline) -> StageDeadlineType:
        return copied(cls, d)


@strawberry.type(description="How often reports forwarded to one institution came back declined.")
class DeclineEntry:
    institution_code: str
    institution_name: str
    level: InstitutionLevel
    suppressed: bool
    forwarded: int | None = strawberry.field(
        description="Times a report of the period was forwarded to it; null when suppressed."
    )
    declined: int | None = strawberry.field(
        description="Of those, how many it declined as not its competence (Bukan Wewenang)."
    )
    rate: float | None = strawberry.field(
        description="The wrong-disposition rate: declined / forwarded."
    )

    @classmethod
    def of(cls, e: figures.DeclineEntry) -> DeclineEntry:
        return copied(cls, e, institution_code=e.code, institution_name=e.name)


@strawberry.type
class DispositionDeclines:
    period: PeriodInfo
    current_to: datetime = strawberry.field(
        description="Read from the index itself: every change committed before this time."
    )
    level: InstitutionLevel | None
    suppress_below: int
    entries: list[DeclineEntry] = strawberry.field(
        description="The highest declined share first, then the suppressed institutions."
    )

    @classmethod
    def of(cls, d: figures.Declines) -> DispositionDeclines:
        return copied(
            cls, d, period=PeriodInfo.of(d.period), entries=[DeclineEntry.of(e) for e in d.entries]
        )


async def _declines(
    info: MinistryInfo, period: PeriodInput, level: InstitutionLevel | None = None
) -> DispositionDeclines:
    service = info.context.ministry.figures()
    return DispositionDeclines.of(await service.declines(period.to_period(), level))


@strawberry.type(description="Reporters' ratings of one institution's completed reports.")
class SatisfactionEntry:
    institution_code: str
    institution_name: str
    level: InstitutionLevel
    suppressed: bool
    completed: int | None = strawberry.field(
        description="Reports of the period it completed; null when suppressed."
    )
    rated: int | None
    rated_share: float | None = strawberry.field(description="rated / completed.")
    average_score: float | None = strawberry.field(
        description="Mean of the ratings, 1 to 5; null when none was rated."
    )

    @classmethod
    def of(cls, e: figures.SatisfactionEntry) -> SatisfactionEntry:
        return copied(
            cls, e, institution_code=e.code, institution_name=e.name, average_score=e.average
        )


@strawberry.type
class ReporterSatisfaction:
    period: PeriodInfo
    current_to: datetime = strawberry.field(
        description="Read from the index itself: every change committed before this time."
    )
    level: InstitutionLevel | None
    suppress_below: int
    entries: list[SatisfactionEntry] = strawberry.field(
        description="The best average first, then those not rated, then the suppressed."
    )

    @classmethod
    def of(cls, s: figures.Satisfaction) -> ReporterSatisfaction:
        return copied(
            cls,
            s,
            period=PeriodInfo.of(s.period),
            entries=[SatisfactionEntry.of(e) for e in s.entries],
        )


async def _satisfaction(
    info: MinistryInfo, period: PeriodInput, level: InstitutionLevel | None = None
) -> ReporterSatisfaction:
    service = info.context.ministry.figures()
    return ReporterSatisfaction.of(await service.satisfaction(period.to_period(), level))


async def _statistics(
    info: MinistryInfo, period: PeriodInput, group_by: GroupBy
) -> ReportStatistics:
    service = info.context.ministry.figures()
    return ReportStatistics.of(await service.statistics(period.to_period(), group_by))


async def _sla_compliance(
    info: MinistryInfo, period: PeriodInput, group_by: GroupBy
) -> SlaCompliance:
    service = info.context.ministry.figures()
    return SlaCompliance.of(await service.sla_compliance(period.to_period(), group_by))


async def _ranking(
    info: MinistryInfo, period: PeriodInput, level: InstitutionLevel | None = None
) -> InstitutionRanking:
    service = info.context.ministry.figures()
    return InstitutionRanking.of(await service.ranking(period.to_period(), level))


@strawberry.type
class MinistryQuery:
    """The ministry's figures; merge into the hub's ``Query`` by inheritance."""

    statistics: ReportStatistics = strawberry.field(
        resolver=_statistics,
        description="Report counts of a period per group; small groups are suppressed.",
    )
    sla_compliance: SlaCompliance = strawberry.field(
        resolver=_sla_compliance,
        description="Per group and stage: share within the limit, median and p90 working days.",
    )
    ranking: InstitutionRanking = strawberry.field(
        resolver=_ranking,
        description="Institutions of a level (all when null) ranked on the ministry's figures.",
    )
    satisfaction: ReporterSatisfaction = strawberry.field(
        resolver=_satisfaction,
        description="Per institution: its completed reports of the period, the share its "
        "reporters rated and their mean score; small groups are suppressed.",
    )
    disposition_declines: DispositionDeclines = strawberry.field(
        resolver=_declines,
        description="Per institution: reports of the period forwarded to it and how many it "
        "declined as not its competence (the wrong-disposition rate); small groups are "
        "suppressed.",
    )


class _HasUuid(Protocol):
    @property
    def uuid(self) -> uuid.UUID: ...


async def report_deadlines(root: _HasUuid, info: MinistryInfo) -> list[StageDeadlineType]:
    """Resolver of ``Report.deadlines``: every SLA stage with its due time and status."""
    found = await info.context.ministry.deadlines.load(root.uuid)
    return [StageDeadlineType.of(s) for s in found.stages] if found else []


async def report_overdue(root: _HasUuid, info: MinistryInfo) -> bool:
    """Resolver of ``Report.overdue``: a compliance stage is running past its due time."""
    found = await info.context.ministry.deadlines.load(root.uuid)
    return found.overdue if found else False
