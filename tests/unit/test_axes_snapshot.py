"""Axes are checked across the markets of a snapshot: an axis is an error only when no market
of the snapshot can price it; a member is named in a warning only when no market lists it."""

from __future__ import annotations

import logging

import pytest

from scanner.config import AxisConfig
from scanner.domain import Asset
from scanner.errors import ConfigError
from scanner.pipeline.axes import require_axes_listed, resolve_axes, snapshot_axes

USD = 10**8
WETH = Asset("0x" + "11" * 20, "WETH", 3_000 * USD)
WSTETH = Asset("0x" + "22" * 20, "wstETH", 3_500 * USD)
WBTC = Asset("0x" + "33" * 20, "WBTC", 60_000 * USD)
ETH = {"ETH": AxisConfig("ETH", ("WETH", "wstETH"), "WETH")}


def test_a_member_one_market_lacks_is_no_warning_when_another_lists_it(
    caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        require_axes_listed(ETH, [("a", [WETH]), ("b", [WSTETH, WBTC])])
    assert caplog.records == []


def test_a_member_no_market_lists_is_named_once(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        require_axes_listed(ETH, [("a", [WETH]), ("b", [WETH, WBTC])])
    assert [r.getMessage() for r in caplog.records] == [
        "axes.ETH.members: no market (a, b) lists wstETH; the axis uses the others"]


def test_an_axis_no_market_lists_is_an_error_naming_every_market() -> None:
    sol = {"SOL": AxisConfig("SOL", ("SOL", "jitoSOL"), "SOL")}
    with pytest.raises(ConfigError, match=r"axes\.SOL\.members: none of the markets a, b lists "
                                          r"any of SOL, jitoSOL \(they list WBTC, WETH\)"):
        require_axes_listed(sol, [("a", [WETH]), ("b", [WBTC])])


def test_a_reference_no_market_lists_is_an_error() -> None:
    axes = {"ETH": AxisConfig("ETH", ("WETH", "wstETH"), "wstETH")}
    with pytest.raises(ConfigError, match=r"axes\.ETH\.reference wstETH is not listed by any "
                                          r"of a, b: choose a member they list \(WETH\)"):
        require_axes_listed(axes, [("a", [WETH]), ("b", [WETH, WBTC])])
    require_axes_listed(axes, [("a", [WETH]), ("b", [WSTETH])])  # b lists it: fine


def test_a_market_without_the_axis_prices_the_others() -> None:
    per_market = [resolve_axes(ETH, [WBTC]), resolve_axes(ETH, [WETH, WSTETH])]
    assert per_market[0] == []
    (axis,) = snapshot_axes(per_market)
    assert axis.reference_price_8dec == 3_000 * USD
    assert axis.members == frozenset({WETH.address, WSTETH.address})
