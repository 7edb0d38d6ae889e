"""Keyset paging over update times, with a node simulated in memory."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from connectors.change import ChangePage, ExternalChange
from connectors.errors import MalformedPayload
from connectors.paging import time_pages
from schema.lifecycle import ReportState
from schema.report import ReportKind

T0 = datetime(2025, 5, 1, tzinfo=UTC)


def record(n: int, at: datetime) -> ExternalChange:
    return ExternalChange(
        node="16.71", external_id=str(n), external_version=at.isoformat(),
        state=ReportState.SUBMITTED, raw_state="open",
        agrees_with=frozenset({ReportState.SUBMITTED}), kind=ReportKind.COMPLAINT,
        title=f"Laporan {n}", content="Isi", region_code="16.71", submitted_at=at, occurred_at=at,
    )  # fmt: skip


class Node:
    """Filters by an inclusive time window and pages by number, like the real ones."""

    def __init__(self, records: list[ExternalChange], *, ordered: bool = True) -> None:
        self.records = sorted(records, key=lambda r: (r.occurred_at, int(r.external_id)))
        if not ordered:
            self.records.reverse()
        self.requests: list[tuple[datetime, datetime | None, int]] = []

    async def page(self, lo: datetime, hi: datetime | None, page: int) -> Sequence[ExternalChange]:
        self.requests.append((lo, hi, page))
        found = [
            r for r in self.records
            if r.occurred_at >= lo and (hi is None or r.occurred_at <= hi)
        ]  # fmt: skip
        return found[(page - 1) * 5 : page * 5]


async def pull(node: Node, since: str | None, **kwargs: object) -> list[ChangePage]:
    return [
        p
        async for p in time_pages(
            "16.71", node.page, since, page_size=5, initial=T0,
            now=lambda: T0 + timedelta(days=400), **kwargs,  # type: ignore[arg-type]
        )
    ]  # fmt: skip


async def test_records_sharing_one_timestamp_are_paged_by_number_not_skipped() -> None:
    node = Node([record(n, T0 + timedelta(hours=1)) for n in range(12)])
    pages = await pull(node, None)
    assert {int(c.external_id) for p in pages for c in p.changes} == set(range(12))
    # The bound moves to the shared time once (re-reading page 1), then numbers go up.
    assert [(lo - T0, page) for lo, _, page in node.requests] == [
        (timedelta(0), 1), (timedelta(hours=1), 1), (timedelta(hours=1), 2),
        (timedelta(hours=1), 3),
    ]  # fmt: skip


async def test_the_lower_bound_moves_with_each_full_page() -> None:
    node = Node([record(n, T0 + timedelta(minutes=n)) for n in range(12)])
    pages = await pull(node, None)
    assert {c.external_id for p in pages for c in p.changes} == {str(n) for n in range(12)}
    assert [(lo - T0, page) for lo, _, page in node.requests] == [
        (timedelta(0), 1), (timedelta(minutes=4), 1), (timedelta(minutes=8), 1),
    ]  # fmt: skip
    assert pages[-1].watermark == (T0 + timedelta(minutes=11)).isoformat()


async def test_windows_close_behind_us_and_carry_the_watermark_forward() -> None:
    node = Node([record(1, T0 + timedelta(days=200))])
    pages = await pull(node, None, window=timedelta(days=90))
    assert [p.watermark for p in pages] == [
        (T0 + timedelta(days=90)).isoformat(),
        (T0 + timedelta(days=180)).isoformat(),
        (T0 + timedelta(days=200)).isoformat(),
        (T0 + timedelta(days=270)).isoformat(),
        (T0 + timedelta(days=360)).isoformat(),
    ]
    assert all(hi is not None and hi - lo == timedelta(days=90) for lo, hi, _ in node.requests)


async def test_a_node_that_does_not_order_its_records_is_refused() -> None:
    node = Node([record(n, T0 + timedelta(minutes=n)) for n in range(3)], ordered=False)
    with pytest.raises(MalformedPayload, match="not ordered by update time"):
        await pull(node, None)
