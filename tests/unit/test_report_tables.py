"""The analyst's terminal tables: a ratio axis's prices in its quote (never `$`), amounts in
USD; Maker's `next price` column only when a position has one."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from scanner.domain import Band, Direction, PositionResult, PositionStatus
from scanner.report import tables
from scanner.store.queries import AxisTotals

AXIS = "wstETH-ETH"
USD = 10**8


def _render(renderable: Any) -> str:
    from rich.console import Console

    console = Console(width=250, record=True, no_color=True)
    with console.capture() as captured:
        console.print(renderable)
    return captured.get()


def _position(liquidatable_next: bool | None = None) -> PositionResult:
    return PositionResult(
        market_key="maker-devnet", protocol="maker", account="0x" + "ab" * 20, axis=AXIS,
        status=PositionStatus.AT_RISK, direction=Direction.DOWN,
        liquidation_price_8dec=97_310_000, axis_price_now_8dec=118_000_000,
        health_factor_wad=2 * 10**18, collateral_usd_8dec=250_000 * USD,
        debt_usd_8dec=100_000 * USD, axis_collateral_usd_8dec=0, seizable_usd_8dec=0,
        liquidatable_next=liquidatable_next)  # fmt: skip


def test_positions_table_prices_a_ratio_axis_in_its_quote() -> None:
    text = _render(tables.positions_table([_position()], {AXIS: "WETH"}))
    assert "0.9731 WETH" in text and "$0.97" not in text
    assert "$250.0K" in text and "$100.0K" in text  # amounts stay USD
    assert "next price" not in text
    assert "$0.97" in _render(tables.positions_table([_position()], {}))  # USD when unknown


def test_positions_table_shows_the_osm_next_price_when_known() -> None:
    text = _render(tables.positions_table([_position(True), replace(_position(False),
                                           account="0x" + "cd" * 20)], {AXIS: "WETH"}))
    assert "next price" in text and "LIQUIDATABLE" in text and "safe" in text


def test_axis_line_and_bands_table_use_the_unit() -> None:
    totals = AxisTotals(AXIS, 118_000_000, 3, 10**14, 1, USD)
    assert tables.axis_line(totals, 10**14, 0, "WETH").startswith(f"{AXIS} 1.1800 WETH   at risk $")
    band = Band(axis=AXIS, direction=Direction.DOWN, rank=1, low_8dec=97_310_000,
                high_8dec=98_020_000, positions=3, collateral_usd_8dec=10**14, debt_usd_8dec=1,
                seizable_usd_8dec=1, share_of_at_risk_bps=5_000, distance_low_bps=-1_753,
                distance_high_bps=-1_693, top_accounts=())
    text = _render(tables.bands_table([band], "longs", "WETH"))
    assert "0.9731 WETH" in text and "0.9802 WETH" in text and "$0.97" not in text


def test_counts_take_the_singular_for_one() -> None:
    from scanner.report.format import counted

    assert [counted(n, "position") for n in (0, 1, 2, 1204)] == [
        "0 positions", "1 position", "2 positions", "1,204 positions"]


def test_the_map_title_wraps_a_long_market_list_inside_the_figure() -> None:
    """Nine devnet markets joined on one line ran off both sides of the demo's charts."""
    from scanner.domain import SnapshotRecord
    from scanner.report.chart import map_title

    markets = ", ".join(f"market-number-{i}-devnet" for i in range(12))
    record = SnapshotRecord(chain="devnet", chain_id=31337, block=433, block_timestamp=0)
    title = map_title(record, "ETH", 1, markets)
    first, *rest = title.splitlines()
    assert first == ("ETH liquidation map: devnet block 433 (1970-01-01 00:00 UTC), "
                     "snapshot 1")
    assert len(rest) >= 2 and all(len(line) <= 150 for line in rest)
    assert " ".join(rest) == markets
