"""WETH and an LST sold in the same round, through the same pools: the basket by hand.

One Morpho WETH/USDC position and one wstETH/USDC position, both liquidated by the shock to
$1,725; the pools: wstETH/WETH (one range about 1.2) and WETH/USDC (one range about $1,725).
The engine's round must be, to the unit, what swapping through the real pool math does step by
step: WETH/USDC arbitraged to $1,725, the seized wstETH swapped into wstETH/WETH, that WETH into
WETH/USDC, then the seized WETH into the same WETH/USDC -- and the axis is WETH/USDC's price
after all of it.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest

from scanner.cascade.basket import basket_order
from scanner.cascade.depth_models import CombinedDepth, SqrtImpactDepth, UniswapDepth
from scanner.cascade.engine import Exposure, run_cascade
from scanner.cascade.uniswap_v3 import (
    PoolState,
    human_price,
    moved_to,
    sqrt_x96_for,
    swap_exact_input,
)
from scanner.cascade.v3math import sqrt_x96_at_tick
from scanner.domain import Direction
from scanner.errors import ConfigError
from scanner.protocols.morpho_blue.curve import MorphoCurve, Token
from scanner.protocols.morpho_blue.liquidation_sale import liquidation_sale
from scanner.protocols.morpho_blue.rule import MarketTotals
from tests.unit.cascade_fixtures import LinearDepth

WETH = "0x00000000000000000000000000000000000000E1"
WSTETH = "0x00000000000000000000000000000000000000E2"  # sorts after WETH: WETH is token0 of ...
USDC = "0x00000000000000000000000000000000000000F1"
WETH_USDC = "0x0000000000000000000000000000000000000A01"
WSTETH_WETH = "0x0000000000000000000000000000000000000A02"
USD, ETH = 10**8, 10**18
NOW = 2_000 * USD
WSTETH_NOW = 2_400 * USD  # 1.2 WETH
SHOCK = 1_725 * USD
TOTALS = MarketTotals(10_000 * 10**6, 10_000 * 10**12, 10_000 * 10**6, 10_000 * 10**12, 0, 0)


def _position(account: str, symbol: str, asset: str, usd_8dec: int, debt_usdc: int
              ) -> Exposure:
    """1 whole `symbol` against `debt_usdc` USDC, Morpho LLTV 50% (incentive 1.15):
    liquidated once 0.5 x its price < debt."""
    curve = MorphoCurve(ETH, debt_usdc * 10**12, TOTALS, 5 * 10**17,
                        usd_8dec * 10**6 * 10**36 // USD // ETH, Token(symbol, 18, usd_8dec),
                        Token("USDC", 6, USD), 1)
    level_8dec = 2 * debt_usdc * USD * NOW // usd_8dec
    return Exposure(f"morpho-{symbol}", "morpho-blue", account, curve, liquidation_sale,
                    Direction.DOWN, level_8dec, NOW, {asset: symbol})


def _pool(address: str, token0: str, token1: str, decimals1: int, tick: int, half_width: int,
          liquidity: int) -> PoolState:
    """One range [tick - half_width, tick + half_width] holding `liquidity`, fee 0.05%."""
    return PoolState(address, token0, token1, 18, decimals1, 500, 10, sqrt_x96_at_tick(tick),
                     tick, liquidity, {tick - half_width: liquidity, tick + half_width: -liquidity},
                     -200, 200, 1)


WETH_USDC_POOL = _pool(WETH_USDC, WETH, USDC, 6, -201_800, 4_000, 10**16)  # ~$1,725, +-40%
WSTETH_WETH_POOL = _pool(WSTETH_WETH, WSTETH, WETH, 18, 1_823, 2_000, 10**20)  # ~1.2 WETH
POOLS = UniswapDepth({WETH: (WETH_USDC_POOL,), WSTETH: (WSTETH_WETH_POOL, WETH_USDC_POOL)},
                     {USDC: 6})
MEMBERS = {WETH: NOW, WSTETH: WSTETH_NOW}
BOOK = (_position("0xA", "WETH", WETH, NOW, 900),  # below $1,800
        _position("0xW", "wstETH", WSTETH, WSTETH_NOW, 1_050))  # below $1,750 in ETH terms


def _swapped(pool: PoolState, zero_for_one: bool, amount_raw: int) -> tuple[PoolState, int]:
    swap = swap_exact_input(pool, zero_for_one, amount_raw)
    return replace(pool, sqrt_x96=swap.sqrt_after_x96, tick=swap.tick_after,
                   liquidity=swap.liquidity_after), swap.amount_out_raw


def test_weth_and_wsteth_sold_in_one_round_go_through_the_same_pool() -> None:
    result = run_cascade("ETH", NOW, SHOCK, BOOK, POOLS, MEMBERS, reference=WETH)
    first = result.rounds[0]
    assert first.positions == 2 and first.price_8dec == SHOCK
    sold = {s.asset: s.amount_raw for s in first.sold}
    # A: 900 x 1.15 / 1,725 = 0.6 WETH; W: 1,050 x 1.15 / (1.2 x 1,725) = 0.58333.. wstETH
    assert abs(sold[WETH] - 6 * 10**17) <= 1
    assert abs(Fraction(sold[WSTETH], ETH) - Fraction(1_050 * 115, 100 * 2_070)) < Fraction(
        1, 10**15)
    # by hand: WETH/USDC arbitraged to $1,725, then the swaps in the engine's order
    pool = moved_to(WETH_USDC_POOL, sqrt_x96_for(WETH_USDC_POOL, WETH, 1_725.0))
    _, weth_from_lst_raw = _swapped(WSTETH_WETH_POOL, True, sold[WSTETH])  # wstETH is token0
    pool, usdc_for_lst_raw = _swapped(pool, True, weth_from_lst_raw)  # WETH is token0
    pool, usdc_for_weth_raw = _swapped(pool, True, sold[WETH])
    axis_after = human_price(pool, WETH, pool.sqrt_x96)
    assert first.price_after_8dec == max(int(SHOCK * (axis_after / 1_725.0)), 1)
    assert first.proceeds_usd_8dec == int((usdc_for_lst_raw + usdc_for_weth_raw) / 10**6 * USD)
    # each from the same start, the product of ratios (the old reading) is another price:
    # the wstETH/WETH hop no longer moves the axis, the WETH both bring moves it once
    alone_weth = POOLS.sell(WETH, sold[WETH], 1_725.0).price_after_usd / 1_725.0
    alone_lst = POOLS.sell(WSTETH, sold[WSTETH], 2_070.0).price_after_usd / 2_070.0
    assert abs(alone_weth * alone_lst - axis_after / 1_725.0) > 1e-6


def test_the_order_of_the_basket_moves_the_axis_by_rounding_alone() -> None:
    """WETH first, then the LST's WETH: the same WETH/USDC price to ~1e-12."""
    lst_raw, weth_raw = 583 * 10**15, 6 * 10**17
    basket = POOLS.sell_basket({WETH: weth_raw, WSTETH: lst_raw},
                               {WETH: 1_725.0, WSTETH: 2_070.0}, WETH)
    pool = moved_to(WETH_USDC_POOL, sqrt_x96_for(WETH_USDC_POOL, WETH, 1_725.0))
    pool, _ = _swapped(pool, True, weth_raw)
    _, weth_from_lst_raw = _swapped(WSTETH_WETH_POOL, True, lst_raw)
    pool, _ = _swapped(pool, True, weth_from_lst_raw)
    other_order = human_price(pool, WETH, pool.sqrt_x96)
    assert basket.reference_price_after_usd == pytest.approx(other_order, rel=1e-12)
    assert basket_order({WETH: 1, WSTETH: 1}, WETH) == [WSTETH, WETH]


def test_square_root_basket_by_hand() -> None:
    """wstETH crosses its book against ETH first, then everything through ETH's one book."""
    book = SqrtImpactDepth({WETH: 4_000_000.0, WSTETH: 1_000_000.0}, {WETH: 18, WSTETH: 18})
    # $250k of wstETH: its book pays 250k (1 - 2/3 x 0.5%); with $1M of WETH through ETH's book
    lst_usd = 250_000 * (1 - 2 / 3 * 0.005)
    total_usd = 1_000_000 + lst_usd
    impact = 0.01 * (total_usd / 4_000_000) ** 0.5
    basket = book.sell_basket({WETH: 500 * ETH, WSTETH: 100 * ETH},
                              {WETH: 2_000.0, WSTETH: 2_500.0}, WETH)
    assert basket.reference_price_after_usd == pytest.approx(2_000 * (1 - impact))
    assert basket.proceeds_usd[WSTETH] == pytest.approx(lst_usd * (1 - 2 / 3 * impact))
    assert basket.total_proceeds_usd == pytest.approx(total_usd * (1 - 2 / 3 * impact))
    # alone, the reference is the plain square-root sale
    alone = book.sell_basket({WETH: 500 * ETH}, {WETH: 2_000.0}, WETH)
    assert alone.reference_price_after_usd == pytest.approx(book.sell(
        WETH, 500 * ETH, 2_000.0).price_after_usd)


def test_a_basket_without_the_reference_market_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"external depth for asset .*E1: add it to"):
        SqrtImpactDepth({WSTETH: 1.0}, {WSTETH: 18}).sell_basket(
            {WSTETH: ETH}, {WETH: 2_000.0, WSTETH: 2_400.0}, WETH)
    with pytest.raises(ConfigError, match=r"Uniswap v3 depth for asset .*E1"):
        UniswapDepth({WSTETH: (WSTETH_WETH_POOL, WETH_USDC_POOL)}, {USDC: 6}).sell_basket(
            {WSTETH: ETH}, {WETH: 2_000.0, WSTETH: 2_400.0}, WETH)


def test_combined_basket_ends_both_venues_at_one_reference_price() -> None:
    external = SqrtImpactDepth({WETH: 200_000.0, WSTETH: 200_000.0}, {WETH: 18, WSTETH: 18})
    combined = CombinedDepth(POOLS, external)
    amounts = {WETH: 20 * ETH, WSTETH: 3 * ETH}
    prices = {WETH: 1_725.0, WSTETH: 2_070.0}
    basket = combined.sell_basket(amounts, prices, WETH)
    on_pools_only = POOLS.sell_basket(amounts, prices, WETH)
    outside_only = external.sell_basket(amounts, prices, WETH)
    assert basket.reference_price_after_usd > max(on_pools_only.reference_price_after_usd,
                                                  outside_only.reference_price_after_usd)
    assert set(basket.proceeds_usd) == {WETH, WSTETH}
    assert basket.total_proceeds_usd > on_pools_only.total_proceeds_usd


def test_linear_basket_is_one_market_in_reference_tokens() -> None:
    """The hand-computable fixture the other cascade tests use: 0.6 WETH and 0.5 wstETH at
    1.2 are 1.2 WETH-equivalent; at 2% per token the reference falls 2.4%."""
    basket = LinearDepth(0.02).sell_basket({WETH: 6 * 10**17, WSTETH: 5 * 10**17},
                                           {WETH: 1_000.0, WSTETH: 1_200.0}, WETH)
    assert basket.reference_price_after_usd == pytest.approx(1_000 * (1 - 0.024))
    assert basket.proceeds_usd[WSTETH] == pytest.approx(600 * (1 - 0.012))
