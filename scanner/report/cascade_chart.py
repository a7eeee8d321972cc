"""`liqscan chart --cascade`: the stored cascade curve of an axis and the newest cascade's path.

Left: for each shock (x, %), where the spiral ends (final move from today's price, %) -- the
dashed diagonal is the shock alone, so the gap to it is what forced selling added -- and the
collateral sold (bars, right scale). Right: the newest single cascade, round by round: the axis
price each round liquidates at, and the collateral it sells.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scanner.errors import UsageError
from scanner.report.chart import FORMATS
from scanner.report.figure_file import require_file_target, save_figure
from scanner.report.format import usd_compact

_UNIT = 10**8


def _move_pct(point: dict[str, Any]) -> float:
    return float((point["final_price_8dec"] / point["price_now_8dec"] - 1) * 100)


def _curve(ax: Any, curve: list[dict[str, Any]], axis: str) -> None:
    shocks = [p["shock_bps"] / 100 for p in curve]
    sold = ax.twinx()
    sold.bar(shocks, [p["sold_usd_8dec"] / _UNIT for p in curve], width=0.6,
             color="#7e57c2", alpha=0.3, label="collateral sold")
    sold.yaxis.set_major_formatter(_usd_formatter())
    sold.set_ylabel("collateral sold")
    ax.plot(shocks, [_move_pct(p) for p in curve], color="#c62828", marker="o", markersize=3,
            label="final move")
    ax.plot(shocks, shocks, color="black", linestyle="--", linewidth=1, label="the shock alone")
    ax.set_zorder(sold.get_zorder() + 1)
    ax.patch.set_visible(False)
    ax.set_xlabel(f"shock to {axis} (%)")
    ax.set_ylabel("where the spiral stops (% from today)")
    ax.set_title(f"cascade curve{_now_note(curve[0]) if curve else ''}", fontsize=10)
    ax.legend(loc="upper left", fontsize=8)


def _now_note(point: dict[str, Any]) -> str:
    """The positions liquidatable before any shock, as the curve counts them."""
    now = point.get("liquidatable_now")
    if now is None:  # stored before they were computed apart
        return ""
    where = "in every shock's round 0" if point["includes_now"] else "not in the curve"
    return (f"\nliquidatable now: {now['positions']} positions, "
            f"{usd_compact(now['sold_usd_8dec'])} sold ({where})")


def _path(ax: Any, cascade: dict[str, Any]) -> None:
    path = cascade["path"]
    prices = [cascade["price_now_8dec"] / _UNIT] + [r["price_8dec"] / _UNIT for r in path] + [
        cascade["final_price_8dec"] / _UNIT]
    ax.step(range(len(prices)), prices, where="post", color="#1d2330")
    for i, r in enumerate(path, start=1):
        ax.annotate(f"{r['positions']} pos\n{usd_compact(r['sold_usd_8dec'])}",
                    (i, r["price_8dec"] / _UNIT), fontsize=7, xytext=(4, 4),
                    textcoords="offset points")
    ax.set_xticks(range(len(prices)), ["now"] + [f"r{r['round']}" for r in path] + ["final"])
    ax.set_ylabel(f"{cascade['axis']} price (USD)")
    ax.set_title(f"cascade {cascade['shock_bps'] / 100:+.1f}%: {len(path)} rounds, "
                 f"{cascade['positions_liquidated']} positions, "
                 f"{usd_compact(cascade['bad_debt_usd_8dec'])} bad debt", fontsize=10)


def _usd_formatter() -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: usd_compact(int(v * _UNIT)))


def save_cascade_chart(curve: list[dict[str, Any]], latest: dict[str, Any] | None, axis: str,
                       title: str, out: Path) -> Path:
    """Write the chart (.png or .svg) from stored cascades (scanner/store/cascades.py)."""
    suffix = out.suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise UsageError(f"--out {out}: the chart is written as .png or .svg, not "
                         f"{out.suffix or 'a file without a suffix'}")
    require_file_target(out, suffix)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [p for p in (curve or None, latest) if p]
    fig, axes = plt.subplots(1, len(panels), figsize=(7 * len(panels), 5.5), dpi=110,
                             squeeze=False)
    column = 0
    if curve:
        _curve(axes[0][column], curve, axis)
        column += 1
    if latest:
        _path(axes[0][column], latest)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    try:
        save_figure(fig, out, suffix)
    finally:
        plt.close(fig)
    return out
