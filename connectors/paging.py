"""Incremental pulls by update time: date windows plus keyset paging.

Used by the kinds whose API filters by time (Open311, LAPOR!, REST in page
mode). Offset paging alone loses records when the node updates one mid-pull
(every later record shifts back a slot), so the lower bound itself moves: after
each full page the next request starts at the page's newest update time, and
the page number only grows while a page shares one timestamp. Bounds are
inclusive, so boundary records may come twice; the hub dedupes on
(node, external_id, external_version).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from connectors.change import ChangePage, ExternalChange
from connectors.errors import ConnectorError, MalformedPayload
from connectors.options import Options

INITIAL_SINCE = "2024-01-01T00:00:00+07:00"
"""Where a first pull starts when the node table gives no ``initial_since``."""

FetchPage = Callable[[datetime, datetime | None, int], Awaitable[Sequence[ExternalChange]]]
"""(lower bound, upper bound or None, page number from 1) -> one page, oldest first."""


def parse_time_watermark(node: str, since: str | None, initial: datetime) -> datetime:
    if since is None:
        return initial
    try:
        moment = datetime.fromisoformat(since)
    except ValueError:
        raise ConnectorError(node, f"watermark {since!r} is not an ISO datetime") from None
    if moment.utcoffset() is None:
        raise ConnectorError(node, f"watermark {since!r} has no UTC offset")
    return moment


async def time_pages(
    node: str,
    fetch: FetchPage,
    since: str | None,
    *,
    page_size: int,
    initial: datetime,
    window: timedelta | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    settle: timedelta = timedelta(hours=1),
) -> AsyncIterator[ChangePage]:
    """Walks from the watermark to now, window by window, page by page.

    A window counts as closed (its end may become the watermark) only once it
    ended ``settle`` ago, so a node whose clock runs behind ours cannot record
    a change inside a window we already left behind.
    """
    lo = parse_time_watermark(node, since, initial)
    while True:
        hi = lo + window if window is not None else None
        last = hi is None or hi >= now() - settle
        start, page = lo, 1
        while True:
            changes = tuple(await fetch(start, hi, page))
            times = [c.occurred_at for c in changes]
            if times != sorted(times):
                # Keyset paging is only sound over an ordered list; say so, do not skip.
                raise MalformedPayload(
                    node, "page", "records are not ordered by update time, oldest first"
                )
            if changes:
                yield ChangePage(changes, max(times).isoformat())
            if len(changes) < page_size:
                break
            if max(times) > start:
                start, page = max(times), 1
            else:
                page += 1
        if last or hi is None:
            return
        # A window that closed in the past holds nothing we have not seen.
        lo = hi
        yield ChangePage((), hi.isoformat())


@dataclass(frozen=True, slots=True)
class TimePaging:
    """How a kind walks one node by update time, as its node table's options set it:
    ``page_size``, ``initial_since`` and, for a windowed kind, ``window_days``."""

    node: str
    page_size: int
    initial: datetime
    window: timedelta | None

    @classmethod
    def read(cls, o: Options, *, page_size_high: int, windowed: bool) -> TimePaging:
        page_size = o.integer("page_size", 100, high=page_size_high)
        initial = o.moment("initial_since", INITIAL_SINCE)
        window = timedelta(days=o.integer("window_days", 90, high=90)) if windowed else None
        return cls(o.node, page_size, initial, window)

    def pages(self, fetch: FetchPage, since: str | None) -> AsyncIterator[ChangePage]:
        return time_pages(
            self.node, fetch, since, page_size=self.page_size, initial=self.initial,
            window=self.window,
        )  # fmt: skip
