"""PNG chart of one axis: collateral per liquidation-price bin, bands shaded, price marked."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from scanner.domain import Band, Direction, HistogramBin

_UNIT = 10**8


def render_histogram_png(
    bins: Sequence[HistogramBin], bands: Sequence[Band], axis: str, price_now_8dec: int,
    out: Path, title: str = "", unit: str = "USD",
) -> Path:
    """`unit`: what the axis price counts (USD, or a ratio axis's quote asset)."""
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and CI
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(11, 5), dpi=110)
    for direction, color in ((Direction.DOWN, "#c0392b"), (Direction.UP, "#2471a3")):
        rows = [b for b in bins if b.axis == axis and b.direction == direction]
        if not rows:
            continue
        lefts = [b.low_8dec / _UNIT for b in rows]
        widths = [(b.high_8dec - b.low_8dec) / _UNIT for b in rows]
        heights = [b.collateral_usd_8dec / _UNIT / 1e6 for b in rows]
        label = ("longs (liquidated on a fall)" if direction == Direction.DOWN
                 else "shorts (on a rise)")
        ax.bar(lefts, heights, width=widths, align="edge", color=color, alpha=0.8, label=label)
    for band in bands:
        if band.axis != axis:
            continue
        ax.axvspan(band.low_8dec / _UNIT, band.high_8dec / _UNIT, color="#f5b041", alpha=0.3)
        ax.annotate(f"#{band.rank}", (band.low_8dec / _UNIT, 0), xytext=(2, 4),
                    textcoords="offset points", fontsize=8)
    ax.axvline(price_now_8dec / _UNIT, color="black", linestyle="--", linewidth=1,
               label=f"{axis} now {_price(price_now_8dec, unit)}")
    ax.set_xlabel(f"{axis} liquidation price ({unit})")
    ax.set_ylabel("collateral at risk (USD millions)")
    ax.set_title(title or f"{axis}: collateral liquidated by price level")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out


def _price(value_8dec: int, unit: str) -> str:
    if unit == "USD":
        return f"${value_8dec / _UNIT:,.2f}"
    return f"{value_8dec / _UNIT:,.4f} {unit}"
