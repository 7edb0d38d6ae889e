"""The ministry's questions: statistics, SLA compliance and the ranking of institutions."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from hub.ministry.figures import (
    COMPLIANCE_STAGES,
    Counts,
    DeclineEntry,
    Declines,
    GroupBy,
    Ranking,
    RankingEntry,
    Satisfaction,
    SatisfactionEntry,
    SlaCompliance,
    SlaGroup,
    StageFigures,
    Statistics,
    StatisticsGroup,
    ranking_entry,
    suppressed,
)
from hub.ministry.period import Period
from hub.ministry.settings import MinistrySettings
from hub.ministry.sources import FigureSource, RollupSource
from hub.store.database import Database
from schema.calendar import wib_date
from schema.institutions import InstitutionLevel
from schema.lifecycle import ReportState
from schema.sla import SlaStage

E = TypeVar("E")


def _now() -> datetime:
    return datetime.now(UTC)


def _stages(found: Mapping[SlaStage, StageFigures]) -> tuple[StageFigures, ...]:
    return tuple(found.get(stage, StageFigures(stage)) for stage in COMPLIANCE_STAGES)


class MinistryQueries:
    """Answers the ministry's questions from a figure source (the roll-ups by default)."""

    def __init__(
        self,
        db: Database,
        settings: MinistrySettings,
        *,
        source: FigureSource | None = None,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._db = db
        self._settings = settings
        self._source = source or RollupSource(db)
        self._clock = clock

    @property
    def settings(self) -> MinistrySettings:
        return self._settings

    def now(self) -> datetime:
        """A running stage is overdue once the WIB date of now is past its due day."""
        return self._clock()

    async def statistics(self, period: Period, group_by: GroupBy) -> Statistics:
        current_to = await self._source.current_to()
        counts, versions, labels = await asyncio.gather(
            self._source.counts(period, group_by.dim, group_by.by_month),
            self.rule_versions(period),
            self._labels(group_by),
        )
        return self._statistics(period, current_to, group_by, versions, labels, counts)

    async def sla_compliance(self, period: Period, group_by: GroupBy) -> SlaCompliance:
        today = wib_date(self.now())
        current_to = await self._source.current_to()
        counts, stages, overall, versions, labels = await asyncio.gather(
            self._source.counts(period, group_by.dim, group_by.by_month),
            self._source.stages(period, group_by.dim, group_by.by_month, today),
            self._source.stages(period, "ALL", False, today),
            self.rule_versions(period),
            self._labels(group_by),
        )
        return self._sla_compliance(
            period, current_to, today, group_by, versions, labels, counts, stages,
            overall.get("", {}),
        )  # fmt: skip

    async def each_month(
        self, period: Period, group_by: GroupBy, only: Collection[str] | None = None
    ) -> tuple[tuple[Statistics, SlaCompliance], ...]:
        """``statistics`` and ``sla_compliance`` of each whole month of ``period``, grouped
        by ``group_by`` (not MONTH): the answers asking each month on its own would give,
        read for all the months at once, one statement per kind of figure. With ``only``,
        the answers keep only the groups of those keys, and the stage figures of no other
        group are computed (the costly part); which groups are suppressed is still decided
        among all of them."""
        months = period.whole_months()
        if not months:
            return ()
        span = Period(months[0].start, months[-1].end)
        today = wib_date(self.now())
        dim = group_by.dim
        current_to = await self._source.current_to()
        counts, stages, overall, versions, labels = await asyncio.gather(
            self._source.counts(span, dim, True, and_key=True),
            self._source.stages(span, dim, True, today, and_key=True, only=only),
            self._source.stages(span, "ALL", True, today),
            self._source.counts(span, GroupBy.RULE_VERSION.dim, True, and_key=True),
            self._labels(group_by),
        )
        answers = []
        for month in months:
            m = month.start.strftime("%Y-%m")
            found, month_versions = _of(m, counts), _in(m, versions)
            statistics = self._statistics(
                month, current_to, group_by, month_versions, labels, found
            )
            sla = self._sla_compliance(
                month, current_to, today, group_by, month_versions, labels, found,
                _of(m, stages), overall.get(m, {}),
            )  # fmt: skip
            if only is not None:
                statistics = replace(
                    statistics, groups=tuple(g for g in statistics.groups if g.key in only)
                )
                sla = replace(sla, groups=tuple(g for g in sla.groups if g.key in only))
            answers.append((statistics, sla))
        return tuple(answers)

    def _statistics(
        self,
        period: Period,
        current_to: datetime,
        group_by: GroupBy,
        versions: tuple[str, ...],
        labels: Mapping[str, str],
        counts: Mapping[str, Counts],
    ) -> Statistics:
        threshold = self._settings.suppress_below
        total = sum(counts.values(), Counts())
        hidden = suppressed(
            {key: c.received for key, c in counts.items()}, threshold, with_total=True
        )
        groups = tuple(
            StatisticsGroup(key, labels.get(key, key), None if key in hidden else c)
            for key, c in sorted(counts.items())
        )
        shown = total if total.received >= threshold else None
        return Statistics(period, current_to, group_by, versions, threshold, shown, groups)

    def _sla_compliance(
        self,
        period: Period,
        current_to: datetime,
        today: date,
        group_by: GroupBy,
        versions: tuple[str, ...],
        labels: Mapping[str, str],
        counts: Mapping[str, Counts],
        stages: Mapping[str, Mapping[SlaStage, StageFigures]],
        overall: Mapping[SlaStage, StageFigures],
    ) -> SlaCompliance:
        threshold = self._settings.suppress_below
        hidden = suppressed(
            {key: c.received for key, c in counts.items()}, threshold, with_total=True
        )
        groups = tuple(
            SlaGroup(
                key, labels.get(key, key), None if key in hidden else _stages(stages.get(key, {}))
            )
            for key in sorted(counts)
        )
        received = sum(c.received for c in counts.values())
        total = _stages(overall) if received >= threshold else None
        return SlaCompliance(
            period, current_to, today, group_by, versions, threshold, total, groups
        )

    async def ranking(self, period: Period, level: InstitutionLevel | None) -> Ranking:
        today = wib_date(self.now())
        dim = GroupBy.INSTITUTION.dim
        current_to = await self._source.current_to()
        counts, stages, versions, institutions = await asyncio.gather(
            self._source.counts(period, dim, False),
            self._source.stages(period, dim, False, today),
            self.rule_versions(period),
            self._db.fetch("ministry_institutions"),
        )
        threshold = self._settings.suppress_below
        ranked: list[RankingEntry] = []
        withheld: list[RankingEntry] = []
        for row in institutions:
            inst_level = InstitutionLevel(row["level"])
            found = counts.get(row["code"])
            if found is None or (level is not None and inst_level is not level):
                continue
            if found.received < threshold:
                withheld.append(RankingEntry(None, row["code"], row["name"], inst_level, True))
                continue
            ranked.append(
                ranking_entry(
                    row["code"], row["name"], inst_level, found, stages.get(row["code"], {})
                )
            )
        ranked.sort(key=lambda e: (-(e.score or 0.0), -(e.received or 0), e.code))
        entries = [_with_rank(e, i) for i, e in enumerate(ranked, start=1)]
        withheld.sort(key=lambda e: e.code)
        return Ranking(period, current_to, today, level, versions, threshold, (*entries, *withheld))

    async def declines(self, period: Period, level: InstitutionLevel | None) -> Declines:
        """Per institution of ``level`` (all when None): reports of the period forwarded to
        it and how many of those it declined, the highest share first."""
        rows = await self._db.fetch("ministry_declines", period.start_at, period.end_at)
        threshold = self._settings.suppress_below
        shown, withheld = _per_institution(
            rows, level, threshold, "forwarded",
            lambda r, lv: DeclineEntry(r["code"], r["name"], lv, False, r["forwarded"],
                                       r["declined"]),
            lambda r, lv: DeclineEntry(r["code"], r["name"], lv, True),
        )  # fmt: skip
        shown.sort(key=lambda e: (-(e.rate or 0.0), -(e.forwarded or 0), e.code))
        return Declines(period, self._clock(), level, threshold, (*shown, *withheld))

    async def satisfaction(self, period: Period, level: InstitutionLevel | None) -> Satisfaction:
        """Per institution of ``level`` (all when None): its completed reports of the
        period, how many were rated and their mean score, the best first."""
        rows = await self._db.fetch("ministry_satisfaction", period.start_at, period.end_at)
        threshold = self._settings.suppress_below
        shown, withheld = _per_institution(
            rows, level, threshold, "completed",
            lambda r, lv: SatisfactionEntry(r["code"], r["name"], lv, False, r["completed"],
                                            r["rated"], r["average"]),
            lambda r, lv: SatisfactionEntry(r["code"], r["name"], lv, True),
        )  # fmt: skip
        shown.sort(key=lambda e: (e.average is None, -(e.average or 0.0), e.code))
        return Satisfaction(period, self._clock(), level, threshold, (*shown, *withheld))

    async def rule_versions(self, period: Period) -> tuple[str, ...]:
        """The rule versions the period's reports were judged by."""
        found = await self._source.counts(period, GroupBy.RULE_VERSION.dim, False)
        return tuple(sorted(found))

    async def _labels(self, group_by: GroupBy) -> dict[str, str]:
        if group_by is GroupBy.STATE:
            return {s.value: s.label for s in ReportState}
        if group_by in (GroupBy.REGION, GroupBy.INSTITUTION, GroupBy.TOPIC):
            rows = await self._db.fetch("ministry_labels")
            return {r["key"]: r["label"] for r in rows if r["dim"] == group_by.value}
        return {}


def _per_institution(
    rows: Sequence[Any],
    level: InstitutionLevel | None,
    threshold: int,
    size: str,
    shown: Callable[[Any, InstitutionLevel], E],
    withheld: Callable[[Any, InstitutionLevel], E],
) -> tuple[list[E], list[E]]:
    """A figure read straight from the index (``rows``: records with ``code``, ``name``,
    ``level`` and ``size``), per institution of ``level`` (all when None): the entries
    of the groups whose ``size`` reaches ``threshold``, and those withheld."""
    out: tuple[list[E], list[E]] = ([], [])
    for row in rows:
        inst_level = InstitutionLevel(row["level"])
        if level is not None and inst_level is not level:
            continue
        if row[size] < threshold:
            out[1].append(withheld(row, inst_level))
        else:
            out[0].append(shown(row, inst_level))
    return out


def _of(month: str, found: Mapping[str, E]) -> dict[str, E]:
    """The groups of ``month`` among keys ``'<YYYY-MM> <key>'``, by their own key."""
    prefix = f"{month} "
    return {k.removeprefix(prefix): v for k, v in found.items() if k.startswith(prefix)}


def _in(month: str, versions: Mapping[str, Counts]) -> tuple[str, ...]:
    """The rule versions of ``month``'s reports (as ``rule_versions`` of that month)."""
    return tuple(sorted(_of(month, versions)))


def _with_rank(entry: RankingEntry, rank: int) -> RankingEntry:
    return replace(entry, rank=rank)
