"""Terminal tables of the analyst commands (rich), and the lines they share with --json."""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from scanner.domain import Band, Direction, PositionResult, Share
from scanner.report.format import axis_price, counted, pct_bps, usd_compact
from scanner.store.snapshot_reads import AxisTotals, StoredSnapshot

WIDE_ENOUGH = 170  # columns when stdout is not a terminal (a pipe or a file): never wrapped


def console() -> Any:
    from rich.console import Console

    tty = sys.stdout.isatty()
    return Console(width=None if tty else WIDE_ENOUGH, highlight=False, soft_wrap=not tty,
                   no_color=not tty)


def age(seconds: int) -> str:
    """`4 min ago`; a block time ahead of this machine's clock (a devnet) says so."""
    ahead = seconds < 0
    seconds = abs(seconds)
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size:
            text = f"{seconds // size} {unit}"
            break
    else:
        text = f"{seconds} s"
    return f"{text} ahead of this clock" if ahead else f"{text} ago"


def snapshot_lines(stored: StoredSnapshot, now_seconds: int | None = None) -> list[str]:
    record = stored.record
    now_seconds = int(time.time()) if now_seconds is None else now_seconds
    at = datetime.fromtimestamp(record.block_timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    markets = ", ".join(f"{m.market_key} ({m.protocol})" for m in record.markets)
    return [f"snapshot {stored.snapshot_id}  {record.chain} block {record.block:,}  {at} "
            f"({age(now_seconds - record.block_timestamp)})",
            f"markets: {markets}"]


def axis_line(totals: AxisTotals, longs_8dec: int, shorts_8dec: int, unit: str) -> str:
    """`unit`: what the axis price counts (USD, or a ratio axis's quote); amounts are USD."""
    return (f"{totals.axis} {axis_price(totals.price_now_8dec, unit)}   at risk "
            f"{usd_compact(totals.at_risk_collateral_usd_8dec)} in "
            f"{counted(totals.at_risk_positions, 'position')} "
            f"(longs {usd_compact(longs_8dec)}, shorts {usd_compact(shorts_8dec)})   "
            "liquidatable now "
            f"{usd_compact(totals.liquidatable_now_collateral_usd_8dec)} in "
            f"{counted(totals.liquidatable_now_positions, 'position')}")


def by_protocol(shares: Sequence[Share]) -> str:
    sums: dict[str, int] = {}
    for s in shares:
        sums[s.protocol] = sums.get(s.protocol, 0) + s.collateral_usd_8dec
    return ", ".join(f"{p} {usd_compact(c)}" for p, c in sorted(sums.items(), key=lambda i: -i[1]))


def by_market(shares: Sequence[Share]) -> str:
    ordered = sorted(shares, key=lambda s: (-s.collateral_usd_8dec, s.market_key))
    return ", ".join(f"{s.market_key} {usd_compact(s.collateral_usd_8dec)} "
                     f"({s.positions:,})" for s in ordered)


def direction_title(axis: str, direction: Direction) -> str:
    return (f"longs: liquidated as {axis} falls" if direction is Direction.DOWN
            else f"shorts: liquidated as {axis} rises")


def bands_table(bands: Sequence[Band], title: str, unit: str) -> Any:
    """`unit`: what the band edges count (USD, or a ratio axis's quote)."""
    from rich import box
    from rich.table import Table

    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for name, justify in (("#", "right"), ("kind", "left"), ("from", "right"),
                          ("to", "right"), ("move", "right"), ("collateral", "right"),
                          ("positions", "right"), ("share", "right"), ("track", "right"),
                          ("by protocol", "left"), ("by market (positions)", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for b in sorted(bands, key=lambda b: b.rank):
        table.add_row(str(b.rank), b.kind, axis_price(b.low_8dec, unit),
                      axis_price(b.high_8dec, unit),
                      f"{pct_bps(b.distance_high_bps)} to {pct_bps(b.distance_low_bps)}"
                      if b.direction is Direction.DOWN else
                      f"{pct_bps(b.distance_low_bps)} to {pct_bps(b.distance_high_bps)}",
                      usd_compact(b.collateral_usd_8dec), f"{b.positions:,}",
                      f"{b.share_of_at_risk_bps / 100:.1f}%", str(b.track_id or "-"),
                      by_protocol(b.shares), by_market(b.shares))
    return table


def hf(health_factor_wad: int) -> str:
    return "inf" if health_factor_wad >= 2**255 else f"{health_factor_wad / 10**18:.4f}"


def positions_table(positions: Sequence[PositionResult], units: Mapping[str, str]) -> Any:
    """`units`: axis name -> what its prices count (USD when absent); amounts are USD. A
    `next price` column (Maker: does the OSM's next price liquidate?) when any has one."""
    from rich import box
    from rich.table import Table

    from scanner.store.queries import distance_bps  # SQLAlchemy: `bands` never shows moves

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    with_next = any(p.liquidatable_next is not None for p in positions)
    for name, justify in (("axis", "left"), ("market", "left"), ("account", "left"),
                          ("status", "left"), ("side", "left"), ("liq. price", "right"),
                          ("move", "right"), ("HF", "right"), ("collateral", "right"),
                          ("debt", "right")):
        table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    if with_next:
        table.add_column("next price", no_wrap=True)
    for p in positions:
        move = distance_bps(p)
        table.add_row(p.axis, p.market_key, p.account, str(p.status),
                      "-" if p.direction is None else
                      ("long" if p.direction is Direction.DOWN else "short"),
                      axis_price(p.liquidation_price_8dec, units.get(p.axis, "USD"))
                      if p.liquidation_price_8dec else "-",
                      "-" if move is None else pct_bps(move), hf(p.health_factor_wad),
                      usd_compact(p.collateral_usd_8dec), usd_compact(p.debt_usd_8dec),
                      *((_next_price(p.liquidatable_next),) if with_next else ()))
    return table


def _next_price(liquidatable_next: bool | None) -> str:
    return "-" if liquidatable_next is None else (
        "LIQUIDATABLE" if liquidatable_next else "safe")
