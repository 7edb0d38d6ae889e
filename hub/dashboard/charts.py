"""Charts drawn on the server as SVG: no script, nothing to fetch. The markup is built
from numbers and escaped names only."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from hub.dashboard.tables import Tile

_COLUMNS = 6
_W, _H, _GAP = 150, 74, 8
_LOW, _HIGH = (0xE8, 0xF1, 0xFA), (0x0B, 0x4F, 0x8A)
_NONE = "#d9d9d9"


def _colour(value: float, low: float, high: float) -> str:
    t = 0.0 if high <= low else (value - low) / (high - low)
    r, g, b = (round(a + (b - a) * t) for a, b in zip(_LOW, _HIGH, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def _ink(value: float, low: float, high: float) -> str:
    t = 0.0 if high <= low else (value - low) / (high - low)
    return "#ffffff" if t > 0.5 else "#1a1a1a"


def shown_value(value: float | None, share: bool) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.1f} %" if share else f"{value:,.0f}".replace(",", ".")


def tiles(items: Sequence[Tile], *, share: bool, suppressed: str) -> str:
    """The regions as a grid of tiles, coloured from the lowest to the highest value;
    a tile with no value (suppressed, or not the reader's) is grey."""
    values = [t.value for t in items if t.value is not None]
    low, high = (min(values), max(values)) if values else (0.0, 0.0)
    rows = (len(items) + _COLUMNS - 1) // _COLUMNS
    width, height = _COLUMNS * (_W + _GAP), rows * (_H + _GAP)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="tiles" viewBox="0 0 {width} {height}" '
        f'role="img" width="{width}" height="{height}">'
    ]
    for index, tile in enumerate(items):
        x, y = (index % _COLUMNS) * (_W + _GAP), (index // _COLUMNS) * (_H + _GAP)
        fill = _colour(tile.value, low, high) if tile.value is not None else _NONE
        ink = _ink(tile.value, low, high) if tile.value is not None else "#555555"
        label = escape(tile.name)
        # No value: suppressed, not the reader's region, or nothing to measure ("—").
        figure = (
            shown_value(tile.value, share)
            if tile.value is not None
            else (suppressed if tile.suppressed else "—")
        )
        body = (
            f'<rect x="{x}" y="{y}" width="{_W}" height="{_H}" rx="6" fill="{fill}"/>'
            f'<text x="{x + 8}" y="{y + 20}" fill="{ink}" font-size="12">{escape(tile.code)}</text>'
            f'<text x="{x + 8}" y="{y + 38}" fill="{ink}" font-size="13" font-weight="bold">'
            f"{escape(tile.name if len(tile.name) <= 19 else tile.name[:18] + '…')}</text>"
            f'<text x="{x + 8}" y="{y + 60}" fill="{ink}" font-size="15" class="tile-value">'
            f"{escape(figure)}</text>"
        )
        title = f"<title>{label}: {escape(figure)}</title>"
        if tile.link:
            parts.append(
                f'<a href="{escape(tile.link)}" class="tile" data-region="{escape(tile.code)}">'
                f"{title}{body}</a>"
            )
        else:
            parts.append(f'<g class="tile" data-region="{escape(tile.code)}">{title}{body}</g>')
    parts.append("</svg>")
    return "".join(parts)


def bars(months: Sequence[str], series: Sequence[tuple[str, str, Sequence[int | None]]]) -> str:
    """Grouped bars per month: ``series`` is (name, colour, one value per month)."""
    if not months:
        return ""
    top = max((v for _, _, values in series for v in values if v is not None), default=0) or 1
    group = 14 * len(series) + 12
    width, height, base = 40 + group * len(months), 220, 190
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="bars" viewBox="0 0 {width} {height + 20}"'
        f' role="img" width="{width}" height="{height + 20}">',
        f'<line x1="36" y1="{base}" x2="{width}" y2="{base}" stroke="#888"/>',
        f'<text x="2" y="14" font-size="11">{top}</text>',
    ]
    for m, month in enumerate(months):
        x0 = 40 + m * group
        for s, (name, colour, values) in enumerate(series):
            value = values[m]
            if value is None:
                continue
            h = round(170 * value / top)
            parts.append(
                f'<rect x="{x0 + 14 * s}" y="{base - h}" width="12" height="{h}" fill="{colour}">'
                f"<title>{escape(month)} {escape(name)}: {value}</title></rect>"
            )
        parts.append(f'<text x="{x0}" y="{base + 14}" font-size="10">{escape(month[2:])}</text>')
    for s, (name, colour, _) in enumerate(series):
        parts.append(
            f'<rect x="{40 + 140 * s}" y="{height}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{54 + 140 * s}" y="{height + 10}" font-size="11">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
