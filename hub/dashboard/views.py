"""The dashboard's views, built from the ministry's own answers (``MinistryQueries``):
the same figures, the same suppression, narrowed to what the reader may see."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence

from hub.dashboard.access import Reader
from hub.dashboard.tables import (
    COUNT_COLUMNS,
    STAGE_COLUMNS,
    Cell,
    Heading,
    Row,
    Table,
    Tile,
    View,
    counts_cells,
    stage_cells,
)
from hub.ministry.figures import (
    Counts,
    GroupBy,
    SlaCompliance,
    SlaGroup,
    StageFigures,
    Statistics,
    StatisticsGroup,
)
from hub.ministry.period import Period
from hub.ministry.queries import MinistryQueries
from schema.institutions import InstitutionLevel
from schema.regions import REGIONS
from schema.sla import SlaStage

TILE_FIGURES = ("received", "completed_share", "completion_within_limit", "verify_within_limit")
"""What the tile map may be coloured by; the first is the default."""

_SUMMARY = (*COUNT_COLUMNS, "completion_within_limit")
_STAGE_ROW = ("key", "label", "stage", *STAGE_COLUMNS)


def _stage(stages: Sequence[StageFigures] | None, stage: SlaStage) -> StageFigures | None:
    return next((f for f in stages or () if f.stage is stage), None)


def _share(stages: Sequence[StageFigures] | None, stage: SlaStage) -> float | None:
    found = _stage(stages, stage)
    return found.within_limit_share if found else None


def _summary(counts: Counts | None, stages: Sequence[StageFigures] | None) -> tuple[Cell, ...]:
    return (*counts_cells(counts), _share(stages, SlaStage.COMPLETION) if counts else None)


def _heading(s: Statistics | SlaCompliance, versions: Sequence[str] | None = None) -> Heading:
    as_of = s.as_of if isinstance(s, SlaCompliance) else None
    return Heading(
        s.period, s.current_to, tuple(versions or s.rule_versions), s.suppress_below, as_of
    )


def region_link(code: str) -> str:
    return f"/dashboard/regions/{code}"


def _tile_value(
    figure: str, counts: Counts | None, stages: Sequence[StageFigures] | None
) -> float | None:
    if counts is None:
        return None
    if figure == "received":
        return float(counts.received)
    if figure == "completed_share":
        return counts.completed / counts.received if counts.received else None
    stage = SlaStage.VERIFY if figure == "verify_within_limit" else SlaStage.COMPLETION
    return _share(stages, stage)


class Views:
    """One reader's views; every figure is a ``MinistryQueries`` answer."""

    def __init__(
        self,
        queries: MinistryQueries,
        reader: Reader,
        institution_regions: Mapping[str, str | None],
    ) -> None:
        self._q = queries
        self._reader = reader
        self._regions = institution_regions
        """Each institution's region (None: not of one region, e.g. a provincial OPD)."""

    def _stat_groups(self, s: Statistics) -> dict[str, StatisticsGroup]:
        return {g.key: g for g in s.groups}

    def _sla_groups(self, s: SlaCompliance) -> dict[str, SlaGroup]:
        return {g.key: g for g in s.groups}

    def _regions_seen(self) -> list[tuple[str, str]]:
        return [(r.code, r.name) for r in REGIONS if self._reader.sees_region(r.code)]

    async def overview(self, period: Period, figure: str) -> View:
        q = self._q
        by_kind, sla_kind, by_region, sla_region = await asyncio.gather(
            q.statistics(period, GroupBy.KIND),
            q.sla_compliance(period, GroupBy.KIND),
            q.statistics(period, GroupBy.REGION),
            q.sla_compliance(period, GroupBy.REGION),
        )
        counts, stages = self._stat_groups(by_region), self._sla_groups(sla_region)
        region_rows = []
        tiles = []
        for code, name in [(r.code, r.name) for r in REGIONS]:
            group = counts.get(code)
            shown = self._reader.sees_region(code)
            c = group.counts if group and shown else None
            st = stages[code].stages if code in stages and shown else None
            link = region_link(code) if shown else None
            suppressed = shown and group is not None and group.counts is None
            tiles.append(Tile(code, name, _tile_value(figure, c, st), link, suppressed))
            if shown:
                region_rows.append(Row((code, name, *_summary(c, st)), link, suppressed))
        tables = []
        if self._reader.everywhere:
            total = Row(
                ("", "total", *_summary(by_kind.total, sla_region.total)),
                suppressed=by_kind.total is None,
            )
            kinds = self._sla_groups(sla_kind)
            kind_rows = [
                Row(
                    (
                        g.key,
                        g.key,
                        *_summary(g.counts, kinds[g.key].stages if g.key in kinds else None),
                    ),
                    suppressed=g.counts is None,
                )
                for g in by_kind.groups
            ]
            tables += [
                Table("total", ("key", "label", *_SUMMARY), (total,)),
                Table("by_kind", ("key", "kind", *_SUMMARY), tuple(kind_rows)),
            ]
        tables.append(Table("by_region", ("key", "region", *_SUMMARY), tuple(region_rows)))
        note = None if self._reader.everywhere else "regency_only_total"
        return View("overview", _heading(sla_region), tuple(tables), tuple(tiles), note)

    async def region(self, period: Period, code: str) -> View:
        q = self._q
        by_region, sla_region, by_inst, sla_inst = await asyncio.gather(
            q.statistics(period, GroupBy.REGION),
            q.sla_compliance(period, GroupBy.REGION),
            q.statistics(period, GroupBy.INSTITUTION),
            q.sla_compliance(period, GroupBy.INSTITUTION),
        )
        group = self._stat_groups(by_region).get(code)
        sla = self._sla_groups(sla_region).get(code)
        name = next(r.name for r in REGIONS if r.code == code)
        stages = sla.stages if sla else None
        counts = group.counts if group else None
        total = Row(
            (code, name, *_summary(counts, stages)), suppressed=group is not None and counts is None
        )
        stage_rows = tuple(
            Row((code, name, s.value, *stage_cells(_stage(stages, s) if counts else None)))
            for s in (SlaStage.VERIFY, SlaStage.FIRST_FOLLOW_UP, SlaStage.COMPLETION)
        )
        institutions = self._institution_rows(by_inst, sla_inst, lambda r: r == code)
        return View(
            "region",
            _heading(sla_region),
            (
                Table("total", ("key", "region", *_SUMMARY), (total,)),
                Table("sla", _STAGE_ROW, stage_rows),
                Table("by_institution", ("key", "institution", *_SUMMARY), institutions),
            ),
        )

    def _institution_rows(
        self, counts: Statistics, sla: SlaCompliance, keep: Callable[[str | None], bool]
    ) -> tuple[Row, ...]:
        stages = self._sla_groups(sla)
        rows = []
        for g in counts.groups:
            if not keep(self._regions.get(g.key)):
                continue
            st = stages[g.key].stages if g.key in stages else None
            rows.append(Row((g.key, g.label, *_summary(g.counts, st)), suppressed=g.counts is None))
        return tuple(rows)

    async def sla(self, period: Period) -> View:
        q = self._q
        by_region, by_inst = await asyncio.gather(
            q.sla_compliance(period, GroupBy.REGION),
            q.sla_compliance(period, GroupBy.INSTITUTION),
        )
        region_rows = [
            row
            for g in by_region.groups
            if self._reader.sees_region(g.key)
            for row in self._stage_rows(g, region_link(g.key))
        ]
        inst_rows = [
            row
            for g in by_inst.groups
            if self._reader.sees_institution(self._regions.get(g.key))
            for row in self._stage_rows(g, None)
        ]
        tables = [
            Table("by_region", _STAGE_ROW, tuple(region_rows)),
            Table("by_institution", _STAGE_ROW, tuple(inst_rows)),
        ]
        if self._reader.everywhere and by_region.total is not None:
            total = [Row(("", "total", f.stage.value, *stage_cells(f))) for f in by_region.total]
            tables.insert(0, Table("total", _STAGE_ROW, tuple(total)))
        return View("sla", _heading(by_region), tuple(tables))

    def _stage_rows(self, g: SlaGroup, link: str | None) -> list[Row]:
        return [
            Row(
                (g.key, g.label, s.value, *stage_cells(_stage(g.stages, s))), link, g.stages is None
            )
            for s in (SlaStage.VERIFY, SlaStage.FIRST_FOLLOW_UP, SlaStage.COMPLETION)
        ]

    async def ranking(self, period: Period, level: InstitutionLevel | None) -> View:
        r = await self._q.ranking(period, level)
        rows = tuple(
            Row(
                (
                    e.rank,
                    e.code,
                    e.name,
                    e.level.value,
                    e.received,
                    e.score,
                    e.verified_within_limit,
                    e.first_follow_up_within_limit,
                    e.completed_within_limit,
                    e.completed_share,
                    e.median_verify_days,
                    e.median_completion_days,
                ),
                suppressed=e.suppressed,
            )
            for e in r.entries
            if self._reader.sees_institution(self._regions.get(e.code))
        )
        columns = (
            "rank",
            "key",
            "institution",
            "level",
            "received",
            "score",
            "verify_within_limit",
            "first_follow_up_within_limit",
            "completed_within_limit",
            "completed_share",
            "median_verify_days",
            "median_completion_days",
        )
        heading = Heading(r.period, r.current_to, r.rule_versions, r.suppress_below, r.as_of)
        return View("ranking", heading, (Table("ranking", columns, rows),))

    async def trend(self, period: Period) -> View:
        columns = (
            "month",
            "region",
            "received",
            "completed",
            "verify_within_limit",
            "completion_within_limit",
        )
        if self._reader.everywhere:
            stats, sla = await asyncio.gather(
                self._q.statistics(period, GroupBy.MONTH),
                self._q.sla_compliance(period, GroupBy.MONTH),
            )
            stages = self._sla_groups(sla)
            rows = tuple(
                self._month_row(g.key, "", g.counts, stages.get(g.key)) for g in stats.groups
            )
            return View("trend", _heading(sla), (Table("trend", columns, rows),))
        # A region's months: each whole month's answers by region, as asking each month on
        # its own would give them, read for all the months at once.
        seen = [code for code, _ in self._regions_seen()]
        months, versions = await asyncio.gather(
            self._q.each_month(period, GroupBy.REGION, only=seen), self._q.rule_versions(period)
        )
        region_rows: list[Row] = []
        for s, c in months:
            counts, stages = self._stat_groups(s), self._sla_groups(c)
            for code in seen:
                group = counts.get(code)
                region_rows.append(
                    self._month_row(
                        s.period.start.strftime("%Y-%m"),
                        code,
                        group.counts if group else None,
                        stages.get(code),
                        suppressed=group is not None and group.counts is None,
                    )
                )
        sla_answers = [c for _, c in months]
        current_to = min((s.current_to for s in sla_answers), default=None)
        if current_to is None:
            current_to = (await self._q.sla_compliance(period, GroupBy.KIND)).current_to
        heading = Heading(
            period, current_to, tuple(str(v) for v in versions), self._q.settings.suppress_below
        )
        return View("trend", heading, (Table("trend", columns, tuple(region_rows)),))

    def _month_row(
        self,
        month: str,
        region: str,
        counts: Counts | None,
        sla: SlaGroup | None,
        *,
        suppressed: bool = False,
    ) -> Row:
        stages = sla.stages if sla and counts else None
        return Row(
            (
                month,
                region,
                counts.received if counts else None,
                counts.completed if counts else None,
                _share(stages, SlaStage.VERIFY),
                _share(stages, SlaStage.COMPLETION),
            ),
            suppressed=suppressed or (counts is None and sla is not None and sla.stages is None),
        )
