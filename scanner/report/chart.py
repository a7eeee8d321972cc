"""The liquidation map of one axis: collateral by liquidation price, stacked by protocol.

Bars: the snapshot's histogram bins, each split by protocol (its per-market shares). Shaded:
bands and walls, labelled in rows so no two labels overlap. A dashed line at the axis price;
a cumulative curve on each side (collateral liquidatable once the price gets there, right
axis). y: log (default: one band does not flatten the rest) or linear; `$` tick labels.

The x range holds the bins with 99.5% of each side's collateral and every band; what lies
beyond it (the histogram's last bin reaches the farthest position) is written at the edge.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanner.domain import Band, Direction, HistogramBin, SnapshotRecord
from scanner.errors import UsageError
from scanner.report.figure_file import require_file_target, save_figure
from scanner.report.format import usd_compact

_UNIT = 10**8
FORMATS = ("png", "svg")
PROTOCOL_COLORS = {"aave-v3": "#7e57c2", "spark": "#ef6c00", "morpho-blue": "#1e88e5",
                   "compound-v3": "#43a047"}
_OTHER_COLORS = ("#8d6e63", "#546e7a", "#d81b60", "#00897b")
_VISIBLE_SHARE = 0.995
_LABEL_ROW = 0.075  # axes fraction between label rows
_TITLE_WIDTH = 150  # characters per title line that fit the 12-inch figure at font size 10
_LEGEND_COLUMNS = 6  # legend entries per row under the plot


@dataclass(frozen=True)
class ChartInput:
    axis: str
    price_now_8dec: int
    bins: Sequence[HistogramBin]
    bands: Sequence[Band]
    title: str
    log_y: bool = True
    unit: str = "USD"  # what the axis price counts (a ratio axis: its quote asset)


def map_title(record: SnapshotRecord, axis: str, snapshot_id: int, market: str | None) -> str:
    """What, where and when on one line; the markets wrapped under it (nine devnet markets,
    or a mainnet snapshot's, would otherwise run off both sides of the figure)."""
    import textwrap
    from datetime import UTC, datetime

    at = datetime.fromtimestamp(record.block_timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")
    markets = textwrap.fill(market or ", ".join(record.market_keys), _TITLE_WIDTH)
    return (f"{axis} liquidation map: {record.chain} block {record.block:,} ({at}), "
            f"snapshot {snapshot_id}\n{markets}")


def _usd_ticks(value: float, _pos: object = None) -> str:
    if value <= 0:
        return "$0"
    return usd_compact(round(value * _UNIT))


def _price_ticks(value: float, _pos: object = None) -> str:
    return f"${value:,.0f}" if value >= 100 else f"${value:,.2f}"


def _ratio_ticks(value: float, _pos: object = None) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.4g}"


def _price_text(value: float, unit: str) -> str:
    return f"${value:,.2f}" if unit == "USD" else f"{value:,.6g} {unit}"


def _protocols(bins: Sequence[HistogramBin]) -> list[str]:
    found = {s.protocol for b in bins for s in b.shares}
    return sorted(found, key=lambda p: (p not in PROTOCOL_COLORS, p))


def _color(protocol: str, protocols: list[str]) -> str:
    if protocol in PROTOCOL_COLORS:
        return PROTOCOL_COLORS[protocol]
    return _OTHER_COLORS[protocols.index(protocol) % len(_OTHER_COLORS)]


def _side(bins: Sequence[HistogramBin], direction: Direction) -> list[HistogramBin]:
    return sorted((b for b in bins if b.direction is direction), key=lambda b: b.bin_index)


def is_overflow(side: Sequence[HistogramBin], b: HistogramBin) -> bool:
    """The histogram's last, wide bin beyond its range (scanner.pipeline.histogram): counted
    in the note at the chart's edge, not drawn as a bar as wide as the chart."""
    if len(side) < 2 or b is not side[-1]:
        return False
    return b.high_8dec - b.low_8dec > 2 * (side[-2].high_8dec - side[-2].low_8dec)


def _drawn(bins: Sequence[HistogramBin]) -> list[HistogramBin]:
    sides = {d: _side(bins, d) for d in Direction}
    return [b for b in bins if not is_overflow(sides[b.direction], b)]


def visible_range(data: ChartInput) -> tuple[float, float]:
    """x limits (USD): each side out to the bin reaching 99.5% of its collateral (at most to
    the histogram's regular range), and every band."""
    now = data.price_now_8dec / _UNIT
    lo, hi = now * 0.97, now * 1.03
    for direction in Direction:
        side = _side(data.bins, direction)
        regular = [b for b in side if not is_overflow(side, b)]
        total = sum(b.collateral_usd_8dec for b in side)
        reach = next((b for b in regular
                      if b.cumulative_collateral_usd_8dec >= _VISIBLE_SHARE * total),
                     regular[-1] if regular else None)
        if reach is not None and direction is Direction.DOWN:
            lo = min(lo, reach.low_8dec / _UNIT)
        elif reach is not None:
            hi = max(hi, reach.high_8dec / _UNIT)
    for band in data.bands:
        lo, hi = min(lo, band.low_8dec / _UNIT), max(hi, band.high_8dec / _UNIT)
    pad = (hi - lo) * 0.02
    return max(lo - pad, 0.0), hi + pad


def build_figure(data: ChartInput) -> Any:
    """The matplotlib Figure (Agg); `save_chart` writes it."""
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and CI
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    fig, ax = plt.subplots(figsize=(12, 6), dpi=110)
    x_lo, x_hi = visible_range(data)
    _bars(ax, data)
    right = _cumulative(ax, data, x_lo, x_hi)
    now = data.price_now_8dec / _UNIT
    ax.axvline(now, color="black", linestyle="--", linewidth=1.2,
               label=f"{data.axis} now {_price_text(now, data.unit)}")
    ax.set_xlim(x_lo, x_hi)
    ax.set_yscale("log" if data.log_y else "linear")
    ax.yaxis.set_major_formatter(FuncFormatter(_usd_ticks))
    ax.xaxis.set_major_formatter(FuncFormatter(
        _price_ticks if data.unit == "USD" else _ratio_ticks))
    ax.set_xlabel(f"{data.axis} price at which the collateral is liquidated ({data.unit})")
    ax.set_ylabel("collateral per bin" + (" (log scale)" if data.log_y else ""))
    ax.set_title(data.title, fontsize=10)
    _band_labels(ax, data, x_lo, x_hi)
    _beyond_notes(ax, data, x_lo, x_hi)
    rows = _legend_below(fig, [ax, right])
    # room under the x label for the legend's rows
    fig.tight_layout(rect=(0.0, 0.035 * rows, 1.0, 1.0))
    return fig


def _legend_below(fig: Any, axes: Sequence[Any]) -> int:
    """One legend for the bars, the now line and the cumulative curves, under the plot (inside
    it, it hid bars wherever it sat); returns its number of rows."""
    handles: list[Any] = []
    labels: list[str] = []
    for axis in axes:
        more_handles, more_labels = axis.get_legend_handles_labels()
        handles += more_handles
        labels += more_labels
    columns = min(len(labels), _LEGEND_COLUMNS) or 1
    fig.legend(handles, labels, loc="lower center", ncol=columns, fontsize=8, frameon=False)
    return -(-len(labels) // columns)


def _bars(ax: Any, data: ChartInput) -> None:
    protocols = _protocols(data.bins)
    drawn = _drawn(data.bins)
    bottoms = [0.0] * len(drawn)
    lefts = [b.low_8dec / _UNIT for b in drawn]
    widths = [(b.high_8dec - b.low_8dec) / _UNIT for b in drawn]
    for protocol in protocols:
        heights = [sum(s.collateral_usd_8dec for s in b.shares if s.protocol == protocol) / _UNIT
                   for b in drawn]
        ax.bar(lefts, heights, width=widths, bottom=bottoms, align="edge", linewidth=0,
               color=_color(protocol, protocols), label=protocol)
        bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
    positive = [h for h in bottoms if h > 0]
    if data.log_y and positive:
        # head room for the labels; dust bins below 1e-5 of the tallest are not worth a decade
        ax.set_ylim(max(min(positive) / 2, max(positive) / 1e5), max(positive) * 8)


def _cumulative(ax: Any, data: ChartInput, x_lo: float, x_hi: float) -> Any:
    """Collateral liquidatable once the price reaches x, moving away from now on each side,
    on a twin y axis (returned)."""
    from matplotlib.ticker import FuncFormatter

    right = ax.twinx()
    now = data.price_now_8dec / _UNIT
    for direction, label in ((Direction.DOWN, "cumulative, longs (price falls)"),
                             (Direction.UP, "cumulative, shorts (price rises)")):
        side = sorted((b for b in data.bins if b.direction is direction), key=lambda b: b.bin_index)
        if not side:
            continue
        xs, ys = [now], [0.0]
        for b in side:
            far = (b.low_8dec if direction is Direction.DOWN else b.high_8dec) / _UNIT
            xs.append(min(max(far, x_lo), x_hi))
            ys.append(b.cumulative_collateral_usd_8dec / _UNIT)
        right.plot(xs, ys, color="#424242" if direction is Direction.DOWN else "#00838f",
                   linewidth=1.4, drawstyle="default", label=label)
    right.set_ylim(bottom=0)
    right.yaxis.set_major_formatter(FuncFormatter(_usd_ticks))
    right.set_ylabel("cumulative collateral liquidated")
    return right


def label_rows(spans: Sequence[tuple[float, float]]) -> list[int]:
    """Row per label (x spans in axes fraction, any order): the lowest row where it does not
    overlap a label already placed; labels are placed left to right."""
    order = sorted(range(len(spans)), key=lambda i: spans[i][0])
    ends: list[float] = []  # right end of the last label in each row
    rows = [0] * len(spans)
    for i in order:
        start, end = spans[i]
        row = next((r for r, e in enumerate(ends) if e < start), len(ends))
        if row == len(ends):
            ends.append(end)
        else:
            ends[row] = end
        rows[i] = row
    return rows


def _band_labels(ax: Any, data: ChartInput, x_lo: float, x_hi: float) -> None:
    fig = ax.figure
    axes_width_pt = fig.get_figwidth() * 72 * ax.get_position().width
    texts, spans = [], []
    for band in sorted(data.bands, key=lambda b: b.low_8dec):
        low, high = band.low_8dec / _UNIT, band.high_8dec / _UNIT
        color = "#f9a825" if band.kind == "band" else "#c62828"
        ax.axvspan(low, high, color=color, alpha=0.22 if band.kind == "band" else 0.35,
                   linewidth=0)
        if band.kind == "wall":  # one position has no width: a line keeps it visible
            ax.axvline((low + high) / 2, color=color, linewidth=1.2, alpha=0.8)
        what = "wall" if band.kind == "wall" else "band"
        text = f"#{band.rank} {what} {usd_compact(band.collateral_usd_8dec)}"
        centre = ((low + high) / 2 - x_lo) / (x_hi - x_lo)
        half = len(text) * 7 * 0.6 / axes_width_pt / 2  # 7-pt font, ~0.6 em per character
        texts.append((centre, text, band.kind))
        spans.append((centre - half - 0.004, centre + half + 0.004))
    for (centre, text, kind), row in zip(texts, label_rows(spans), strict=True):
        ax.text(centre, 0.97 - row * _LABEL_ROW, text, transform=ax.transAxes, ha="center",
                va="top", fontsize=7, gid="band-label", zorder=6,
                color="#b71c1c" if kind == "wall" else "#5d4037",
                bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "alpha": 1.0,
                      "linewidth": 0})


def _beyond_notes(ax: Any, data: ChartInput, x_lo: float, x_hi: float) -> None:
    """Collateral whose liquidation price lies outside the x range, written at each edge."""
    drawn = {id(b) for b in _drawn(data.bins)}
    below = sum(b.collateral_usd_8dec for b in data.bins if b.direction is Direction.DOWN
                and (b.high_8dec / _UNIT <= x_lo or id(b) not in drawn))
    above = sum(b.collateral_usd_8dec for b in data.bins if b.direction is Direction.UP
                and (b.low_8dec / _UNIT >= x_hi or id(b) not in drawn))
    for amount, x, ha, arrow in ((below, 0.005, "left", "<- "), (above, 0.995, "right", "")):
        if amount:
            suffix = "" if arrow else " ->"
            ax.text(x, 0.02, f"{arrow}{usd_compact(amount)} beyond{suffix}",
                    transform=ax.transAxes, ha=ha, va="bottom", fontsize=7, color="#424242",
                    zorder=5, bbox={"boxstyle": "round,pad=0.2", "facecolor": "white",
                                    "alpha": 0.9, "linewidth": 0})


def save_chart(data: ChartInput, out: Path) -> Path:
    """Write the chart; the format is the file's suffix (.png or .svg)."""
    suffix = out.suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise UsageError(f"--out {out}: the chart is written as .png or .svg, not "
                         f"{out.suffix or 'a file without a suffix'}")
    require_file_target(out, suffix)
    import matplotlib.pyplot as plt

    fig = build_figure(data)
    try:
        save_figure(fig, out, suffix)
    finally:
        plt.close(fig)
    return out


def render_histogram_png(
    bins: Sequence[HistogramBin], bands: Sequence[Band], axis: str, price_now_8dec: int,
    out: Path, title: str = "", unit: str = "USD",
) -> Path:
    """The demo's chart (kept for callers of the old name). `unit`: what the axis price
    counts (USD, or a ratio axis's quote asset)."""
    return save_chart(ChartInput(axis, price_now_8dec, bins, bands,
                                 title or f"{axis}: collateral liquidated by price level",
                                 unit=unit), out)
