"""The Compound rule on a price axis (scanner/protocols/compound_v3/curve.py), pure."""

from __future__ import annotations

from dataclasses import replace

from scanner.domain import WAD, Direction
from scanner.pipeline.liquidation import find_boundary
from scanner.protocols.compound_v3.curve import CometCurve
from scanner.protocols.compound_v3.rule import (
    CometAccount,
    CometAsset,
    CometPrices,
    CometRates,
    CometTotals,
    accrue,
)
from scanner.protocols.compound_v3.state import CometMarketState, CometStoreFront, CometUser

WETH, WSTETH, WBTC, USDC = "0xWETH", "0xWSTETH", "0xWBTC", "0xUSDC"
RATES = CometRates(9 * 10**17, 10**9, 10**10, 0, 9 * 10**17, 2 * 10**9, 10**10, 3 * 10**8)
TOTALS = CometTotals(10**15, 10**15, 10**12, 8 * 10**11, 1_000)
ETH = frozenset({WETH, WSTETH})


def _market(base: str, base_price: int, collateral: dict[str, int], quote_usd: int | None
            ) -> CometMarketState:
    assets = tuple(CometAsset(i, a, 10**18 if a != WBTC else 10**8, 8 * 10**17, 85 * 10**16,
                              9 * 10**17) for i, a in enumerate(collateral))
    return CometMarketState(
        market_key="m", comet="0xC", block=1, block_timestamp=1_000 + 40 * 86_400,
        base_token=base, base_symbol="B", base_scale=10**6 if base == USDC else 10**18,
        rates=RATES, stored_totals=TOTALS,
        accrued_totals=accrue(TOTALS, RATES, 1_000 + 40 * 86_400), assets=assets,
        symbols={}, prices=CometPrices(base_price, collateral), quote_usd_8dec=quote_usd,
        store_front=CometStoreFront(5 * 10**17, 10**30, 0))


def _curve(market: CometMarketState, principal: int, balances: dict[str, int],
           ref_usd: int) -> CometCurve:
    bits = sum(1 << a.offset for a in market.assets if balances.get(a.asset))
    user = CometUser("0xA", CometAccount(principal, bits, balances), 0, False)
    return CometCurve(user, market, ETH, ref_usd)


def test_usd_comet_weth_long_is_liquidated_by_a_fall_at_the_contract_sign() -> None:
    market = _market(USDC, 10**8, {WETH: 3_000 * 10**8}, None)
    curve = _curve(market, -2_000 * 10**6, {WETH: 10**18}, 3_000 * 10**8)
    direction, x = find_boundary(curve)
    assert direction is Direction.DOWN and x is not None
    assert curve.healthy(x) and not curve.healthy(x - 1)
    # debt accrued over 40 days: the boundary is above the stored-index one
    assert x > 2_000 * 10**8 * 100 // 85
    for price in (x - 1, x, x + 1):
        assert curve.healthy(price) == (curve.value(price).health_factor_wad >= WAD)
    assert curve.seizable_usd_8dec(x - 1) == curve.value(x - 1).collateral_usd_8dec


def test_eth_comet_lst_loop_is_not_sensitive_to_eth() -> None:
    """wstETH against WETH debt in a Comet pricing in ETH: moving ETH/USD moves both."""
    market = _market(WETH, 10**8, {WSTETH: 12 * 10**7}, 3_000 * 10**8)
    curve = _curve(market, -10**18, {WSTETH: 10**18}, 3_000 * 10**8)
    assert find_boundary(curve) == (None, None)
    # its USD values still move with ETH
    assert curve.value(6_000 * 10**8).collateral_usd_8dec == 2 * curve.value(
        3_000 * 10**8).collateral_usd_8dec


def test_eth_comet_wbtc_collateral_is_liquidated_by_a_rising_eth() -> None:
    market = _market(WETH, 10**8, {WBTC: 20 * 10**8}, 3_000 * 10**8)
    curve = _curve(market, -10 * 10**18, {WBTC: 10**8}, 3_000 * 10**8)
    direction, x = find_boundary(curve)
    assert direction is Direction.UP and x is not None
    assert curve.healthy(x) and not curve.healthy(x + 1)
    assert 3_000 * 10**8 < x < 3_000 * 10**8 * 2 * 85 // 100


def test_an_asset_past_offset_15_counts_through_its_extended_flag() -> None:
    """Extended-asset-list Comets flag offsets 16-23 in userBasic._reserved; the adapter merges
    them above bit 15, and the rule counts such collateral."""
    market = _market(USDC, 10**8, {WETH: 3_000 * 10**8}, None)
    far = CometAsset(17, WSTETH, 10**18, 8 * 10**17, 85 * 10**16, 9 * 10**17)
    market = replace(market, assets=(*market.assets, far),
                     prices=CometPrices(10**8, {WETH: 3_000 * 10**8, WSTETH: 3_000 * 10**8}))
    user = CometUser("0xA", CometAccount(-2_000 * 10**6, 1 << 17, {WSTETH: 10**18}), 0, False)
    curve = CometCurve(user, market, ETH, 3_000 * 10**8)
    assert curve.value(3_000 * 10**8).collateral_usd_8dec == 3_000 * 10**8
    assert find_boundary(curve)[0] is Direction.DOWN
