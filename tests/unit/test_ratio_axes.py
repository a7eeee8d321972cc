"""Ratio axes and the axis price source: config validation, resolution against markets, and the
snapshot's axis price (pure; the contracts judge the levels in test_ratio_axis_truth.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.config import AxisConfig, Config, load_config
from scanner.domain import Asset
from scanner.errors import ConfigError
from scanner.pipeline.axes import resolve_axes, snapshot_axes

ENV = {"LIQSCAN_RPC_URL": "https://eth-mainnet.example/v2/key"}
WETH = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
WSTETH = "0x7f39C581F595B53c5cb19bD0b3f8dA6c935E2Ca0"
USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"

BASE = """
[chains.ethereum]
rpc_url = "${LIQSCAN_RPC_URL}"
chain_id = 1

[[markets]]
key = "aave"
chain = "ethereum"
protocol = "aave-v3"
pool_addresses_provider = "0x2f39d218133AFaB8F2B819B1066c7E434Ad94E9e"
start_block = 16291127

[[markets]]
key = "spark"
chain = "ethereum"
protocol = "spark"
pool_addresses_provider = "0x02C3eA4e34C0cBd694D2adFa2c690EECbC1793eE"
start_block = 16776401

[axes.ETH]
members = ["WETH", "wstETH"]
"""
RATIO = '\n[axes.wstETH-ETH]\nmembers = ["wstETH"]\nquote = ["WETH"]\n'


def load_text(tmp_path: Path, text: str) -> Config:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return load_config(path, ENV)


def test_a_ratio_axis_and_a_price_source_load(tmp_path: Path) -> None:
    config = load_text(tmp_path, BASE.replace("[axes.ETH]", '[axes.ETH]\nprice_source = "spark"')
                       + RATIO)
    ratio, eth = config.axes["wstETH-ETH"], config.axes["ETH"]
    assert (ratio.members, ratio.quote, ratio.reference, ratio.unit) == (
        ("wstETH",), ("WETH",), "wstETH", "WETH")
    assert (eth.quote, eth.unit, eth.price_source, ratio.price_source) == (
        (), "USD", "spark", None)


@pytest.mark.parametrize(("axis", "message"), [
    pytest.param('members = ["wstETH"]\nquote = ["WETH", "wsteth"]',
                 "config.toml: axes.R.quote[1] 'wsteth' is also a member: a ratio axis moves "
                 "its members against the quote; list it in one of them", id="quote-is-member"),
    pytest.param('members = ["wstETH"]\nquote = []',
                 "config.toml: axes.R.quote must be a non-empty list of token symbols or "
                 "addresses", id="empty-quote"),
    pytest.param('members = ["wstETH"]\nquote = "WETH"',
                 "config.toml: axes.R.quote must be a non-empty list", id="quote-not-a-list"),
    pytest.param('members = ["wstETH"]\nquote = ["WETH", "weth"]',
                 "config.toml: axes.R.quote lists a token twice", id="quote-twice"),
    pytest.param('members = ["wstETH"]\nquote = ["0xabc"]',
                 'config.toml: axes.R.quote[0] "0xabc" is not a 20-byte hex address',
                 id="quote-address"),
    pytest.param('members = ["wstETH"]\nquote = ["W ETH"]',
                 "config.toml: axes.R.quote[0] 'W ETH' is not a token symbol", id="quote-symbol"),
    pytest.param('members = ["wstETH"]\nquotes = ["WETH"]',
                 "config.toml: axes.R.quotes is not a known key; did you mean 'quote'?",
                 id="unknown-key"),
    pytest.param('members = ["wstETH"]\nprice_source = "compound"',
                 "config.toml: axes.R.price_source 'compound' is not a configured market key; "
                 "use one of: aave, spark", id="price-source-unknown"),
    pytest.param('members = ["wstETH"]\nprice_source = 1',
                 "config.toml: axes.R.price_source must be a string, not 1",
                 id="price-source-type"),
])
def test_bad_axes_name_the_key(tmp_path: Path, axis: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_text(tmp_path, BASE + f"\n[axes.R]\n{axis}\n")
    assert caught.value.message.startswith(message), caught.value.message
    assert "\n" not in caught.value.message


@pytest.mark.parametrize("name", ['"wstETH/ETH"', '"' + "x" * 33 + '"', '"-ETH"'])
def test_bad_axis_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_text(tmp_path, BASE + f'\n[axes.{name}]\nmembers = ["wstETH"]\n')
    assert caught.value.message == (
        f"config.toml: axes.{name.strip(chr(34))} is not a valid axis name: use up to 32 "
        "letters, digits, '.', '_', '+' or '-' (e.g. [axes.wstETH-ETH])")


def _axes(tmp_path: Path, extra: str = "") -> dict[str, AxisConfig]:
    return load_text(tmp_path, BASE + RATIO + extra).axes


AAVE_ASSETS = (Asset(WETH, "WETH", 3_000 * 10**8), Asset(WSTETH, "wstETH", 3_600 * 10**8),
               Asset(USDC, "USDC", 10**8))
# another oracle, slightly apart: wstETH/WETH 1.2012 there
MORPHO_ASSETS = (Asset(WSTETH, "wstETH", 3_604 * 10**8), Asset(WETH, "WETH", 3_000 * 10**8))


def test_a_ratio_axis_moves_its_members_alone(tmp_path: Path) -> None:
    (eth, ratio) = resolve_axes(_axes(tmp_path), AAVE_ASSETS)
    assert eth.members == frozenset({WETH, WSTETH}) and eth.unit == "USD"
    assert ratio.members == frozenset({WSTETH})  # WETH, the quote, keeps its price
    assert (ratio.reference, ratio.reference_price_8dec, ratio.quote_price_8dec) == (
        WSTETH, 3_600 * 10**8, 3_000 * 10**8)  # a curve's x stays the member's own price
    assert ratio.unit == "WETH"


def test_the_snapshot_prices_a_ratio_axis_in_its_quote(tmp_path: Path) -> None:
    axes = _axes(tmp_path)
    per_market = [resolve_axes(axes, AAVE_ASSETS), resolve_axes(axes, MORPHO_ASSETS)]
    eth, ratio = snapshot_axes(per_market, axes, ["aave", "morpho"])
    assert eth.reference_price_8dec == 3_000 * 10**8  # the first market's WETH in USD
    assert ratio.reference_price_8dec == 120_000_000  # 1.2 WETH per wstETH, Aave's oracle
    assert ratio.unit == "WETH"


def test_price_source_picks_the_market(tmp_path: Path) -> None:
    axes = _axes(tmp_path)
    axes = {name: AxisConfig(a.name, a.members, a.reference, a.quote, "spark")
            for name, a in axes.items()}
    per_market = [resolve_axes(axes, AAVE_ASSETS), resolve_axes(axes, MORPHO_ASSETS)]
    eth, ratio = snapshot_axes(per_market, axes, ["aave", "spark"])
    assert ratio.reference_price_8dec == 3_604 * 10**8 * 10**8 // (3_000 * 10**8)
    assert eth.reference_price_8dec == 3_000 * 10**8 and eth.reference == WETH
    # not in this snapshot (`scan --market aave`): the default, the first market
    (eth, ratio) = snapshot_axes(per_market[:1], axes, ["aave"])
    assert ratio.reference_price_8dec == 120_000_000


def test_price_source_that_lacks_the_axis_is_an_error(tmp_path: Path) -> None:
    axes = {name: AxisConfig(a.name, a.members, a.reference, a.quote, "spark")
            for name, a in _axes(tmp_path).items()}
    no_weth = (Asset(WSTETH, "wstETH", 3_604 * 10**8), Asset(USDC, "USDC", 10**8))
    per_market = [resolve_axes(axes, AAVE_ASSETS), resolve_axes(axes, no_weth)]
    with pytest.raises(ConfigError) as caught:
        snapshot_axes(per_market, axes, ["aave", "spark"])
    assert caught.value.message == (
        "axes.wstETH-ETH.price_source: market 'spark' does not list both a member and a quote "
        "asset of this axis: choose a market that prices it")


def test_a_ratio_axis_whose_quote_no_market_lists_is_an_error(tmp_path: Path) -> None:
    axes = _axes(tmp_path)
    no_weth = (Asset(WSTETH, "wstETH", 3_604 * 10**8), Asset(USDC, "USDC", 10**8))
    with pytest.raises(ConfigError) as caught:
        snapshot_axes([resolve_axes(axes, no_weth)], axes, ["morpho"])
    assert caught.value.message == (
        "axes.wstETH-ETH.quote: no market of this snapshot (morpho) lists WETH: check the "
        "symbol or address, or scan a market that prices it")


def test_a_market_without_the_quote_still_moves_relative_to_its_own_price(
        tmp_path: Path) -> None:
    axes = _axes(tmp_path)
    no_weth = (Asset(WSTETH, "wstETH", 3_604 * 10**8), Asset(USDC, "USDC", 10**8))
    per_market = [resolve_axes(axes, AAVE_ASSETS), resolve_axes(axes, no_weth)]
    _eth, ratio = snapshot_axes(per_market, axes, ["aave", "morpho"])
    assert ratio.reference_price_8dec == 120_000_000
    (_, morpho_ratio) = per_market[1]
    assert morpho_ratio.quote_price_8dec == 0 and morpho_ratio.reference_price_8dec == (
        3_604 * 10**8)


def test_exports_and_tables_name_the_axis_unit() -> None:
    from scanner.domain import (
        Band,
        Direction,
        PositionResult,
        PositionStatus,
        SnapshotRecord,
    )
    from scanner.report.format import axis_price, band_line
    from scanner.store.export import band_records, position_records

    snapshot = SnapshotRecord(chain="ethereum", chain_id=1, block=1, block_timestamp=0)
    position = PositionResult(
        market_key="aave", protocol="aave-v3", account=WETH, axis="wstETH-ETH",
        status=PositionStatus.AT_RISK, direction=Direction.DOWN,
        liquidation_price_8dec=97_310_000, axis_price_now_8dec=118_000_000,
        health_factor_wad=10**18, collateral_usd_8dec=1, debt_usd_8dec=1,
        axis_collateral_usd_8dec=1, seizable_usd_8dec=1)
    units = {"wstETH-ETH": "WETH"}
    (row,) = position_records(snapshot, [position], units)
    assert (row["axis_unit"], row["liquidation_price_usd"]) == ("WETH", "0.97310000")
    assert position_records(snapshot, [position])[0]["axis_unit"] == "USD"
    band = Band(axis="wstETH-ETH", direction=Direction.DOWN, rank=1, low_8dec=97_310_000,
                high_8dec=98_020_000, positions=3, collateral_usd_8dec=10**14,
                debt_usd_8dec=1, seizable_usd_8dec=1, share_of_at_risk_bps=5_000,
                distance_low_bps=-1_753, distance_high_bps=-1_693, top_accounts=())
    assert band_records(snapshot, [band], units)[0]["axis_unit"] == "WETH"
    assert band_line(band, "WETH").startswith("wstETH-ETH 0.9731 WETH - 0.9802 WETH")
    assert axis_price(300_000_000_000, "USD") == "$3,000.00"


def test_the_snapshot_price_comes_from_a_market_that_lists_the_reference(
        tmp_path: Path) -> None:
    """A first market without WETH (Morpho wstETH/USDC) must not set the ETH axis price with
    its wstETH price: the first market that lists the reference does."""
    axes = _axes(tmp_path)
    no_weth = (Asset(WSTETH, "wstETH", 3_604 * 10**8), Asset(USDC, "USDC", 10**8))
    per_market = [resolve_axes(axes, no_weth), resolve_axes(axes, AAVE_ASSETS)]
    assert per_market[0][0].reference == WSTETH and not per_market[0][0].reference_is_configured
    eth, ratio = snapshot_axes(per_market, axes, ["morpho", "aave"])
    assert (eth.reference, eth.reference_price_8dec) == (WETH, 3_000 * 10**8)
    assert ratio.reference_price_8dec == 120_000_000
