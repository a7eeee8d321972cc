"""The spiral on hand-computable books: two Morpho positions, one linear-impact market."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest

from scanner.cascade.depth_models import SqrtImpactDepth
from scanner.cascade.engine import Exposure, run_cascade
from scanner.domain import Band, Direction
from scanner.protocols.morpho_blue.curve import MorphoCurve, Token
from scanner.protocols.morpho_blue.liquidation_sale import liquidation_sale
from scanner.protocols.morpho_blue.rule import MarketTotals
from tests.unit.cascade_fixtures import LinearBuyingDepth, LinearDepth

WETH = "0x00000000000000000000000000000000000000E1"
USD, ETH = 10**8, 10**18
NOW = 2_000 * USD
TOTALS = MarketTotals(10_000 * 10**6, 10_000 * 10**12, 10_000 * 10**6, 10_000 * 10**12, 0, 0)


def position(account: str, debt_usdc: int) -> Exposure:
    """1 WETH against `debt_usdc` USDC in a Morpho WETH/USDC market with LLTV 50% (incentive
    1.15): liquidated once 0.5 x price < debt, i.e. below 2 x debt."""
    curve = MorphoCurve(ETH, debt_usdc * 10**12, TOTALS, 5 * 10**17,
                        NOW * 10**6 * 10**36 // USD // ETH, Token("WETH", 18, NOW),
                        Token("USDC", 6, USD), 1)
    return Exposure("morpho", "morpho-blue", account, curve, liquidation_sale, Direction.DOWN,
                    2 * debt_usdc * USD, NOW, {WETH: "WETH"})


def seized(debt_usdc: int, price: Fraction) -> Fraction:
    return Fraction(debt_usdc) * Fraction(115, 100) / price


def test_a_shock_liquidates_one_whose_sale_liquidates_the_next() -> None:
    # A: 900 USDC (liquidated below $1,800); B: 860 USDC (below $1,720).
    # Shock to $1,725: A alone; it sells 900 x 1.15 / 1725 = 0.6 WETH; at 2% per WETH the price
    # falls 1.2% to $1,704.30 < $1,720: B is liquidated there, selling 860 x 1.15 / 1704.30
    # WETH; the price is then $1,725 less 2% per WETH of everything sold since the shock, and
    # nobody is left: the fixpoint.
    depth = LinearDepth(0.02)
    result = run_cascade("ETH", NOW, 1_725 * USD, [position("0xA", 900), position("0xB", 860)],
                         depth, {WETH: NOW})
    assert result.converged and result.direction is Direction.DOWN
    assert [r.positions for r in result.rounds] == [1, 1]
    first, second = result.rounds
    assert first.price_8dec == 1_725 * USD and first.liquidations[0].account == "0xA"
    assert abs(first.sold[0].amount_raw - 6 * 10**17) <= 1
    p1 = Fraction(1_725) * (1 - Fraction(2, 100) * Fraction(6, 10))
    assert abs(Fraction(first.price_after_8dec, USD) - p1) < Fraction(1, 10**6)
    assert second.price_8dec == first.price_after_8dec
    b_sold = seized(860, p1)
    assert abs(Fraction(second.sold[0].amount_raw, ETH) - b_sold) < Fraction(1, 10**12)
    final = Fraction(1_725) * (1 - Fraction(2, 100) * (Fraction(6, 10) + b_sold))
    assert abs(Fraction(result.final_price_8dec, USD) - final) < Fraction(1, 10**6)
    assert result.positions_liquidated == 2
    assert result.debt_repaid_usd_8dec == (900 + 860) * USD
    assert result.bad_debt_usd_8dec == 0
    # the depth model was asked for everything sold since the shock, from the shocked price
    assert [(a, round(p, 6)) for a, _, p in depth.sales] == [(WETH, 1_725.0), (WETH, 1_725.0)]
    assert abs(Fraction(depth.sales[1][1], ETH) - (Fraction(6, 10) + b_sold)) < Fraction(
        1, 10**12)


def test_without_impact_the_spiral_stops_after_the_shock() -> None:
    result = run_cascade("ETH", NOW, 1_725 * USD, [position("0xA", 900), position("0xB", 860)],
                         LinearDepth(0.0), {WETH: NOW})
    assert [r.positions for r in result.rounds] == [1]
    assert result.final_price_8dec == 1_725 * USD


def test_a_shock_short_of_every_level_liquidates_nothing() -> None:
    result = run_cascade("ETH", NOW, 1_900 * USD, [position("0xA", 900)], LinearDepth(0.5),
                         {WETH: NOW})
    assert result.rounds == () and result.final_price_8dec == 1_900 * USD
    assert result.converged and result.positions_liquidated == 0


def test_bands_crossed_by_the_shock_and_by_each_round() -> None:
    bands = [Band("ETH", Direction.DOWN, 1, 1_700 * USD, 1_720 * USD, 1, 0, 0, 0, 0, 0, 0, ()),
             Band("ETH", Direction.DOWN, 2, 1_750 * USD, 1_800 * USD, 1, 0, 0, 0, 0, 0, 0, ())]
    result = run_cascade("ETH", NOW, 1_725 * USD, [position("0xA", 900), position("0xB", 860)],
                         LinearDepth(0.02), {WETH: NOW}, bands)
    assert result.bands_crossed_by_shock == (2,)
    assert result.rounds[0].bands_crossed == (1,)  # $1,725 -> $1,704.30


def test_an_unpriced_axis_member_is_an_error_not_a_free_sale() -> None:
    with pytest.raises(ValueError, match="no USD price"):
        run_cascade("ETH", NOW, 1_725 * USD, [position("0xA", 900)], LinearDepth(0.02), {})


def short(account: str, collateral_usdc: int) -> Exposure:
    """`collateral_usdc` USDC against 1 WETH of debt (Morpho, LLTV 50%): the loan token is on
    the axis, so a rise liquidates it once 0.5 x collateral < the ETH price."""
    oracle_now = 10**72 // (NOW * 10**6 * 10**36 // USD // ETH)  # WETH per USDC, 1e36 scaled
    curve = MorphoCurve(collateral_usdc * 10**6, ETH * 10**6, TOTALS_ETH, 5 * 10**17,
                        oracle_now, Token("USDC", 6, USD), Token("WETH", 18, NOW), -1)
    return Exposure("morpho", "morpho-blue", account, curve, liquidation_sale, Direction.UP,
                    collateral_usdc * USD // 2, NOW, {WETH: "WETH"})


TOTALS_ETH = MarketTotals(10 * ETH, 10 * ETH * 10**6, 10 * ETH, 10 * ETH * 10**6, 0, 0)


def test_a_short_squeeze_buys_the_debt_through_a_buying_model() -> None:
    # A: 5,000 USDC / 1 WETH (liquidated above $2,500); B: 5,200 USDC (above $2,600).
    # Shock to $2,550: A alone; its liquidator buys 1 WETH: +2% -> $2,601 > $2,600: B goes,
    # buying 1 WETH more: 2 WETH since the shock, +4% of $2,550 = $2,652; nobody is left.
    result = run_cascade("ETH", NOW, 2_550 * USD, [short("0xA", 5_000), short("0xB", 5_200)],
                         LinearBuyingDepth(0.02), {WETH: NOW})
    assert result.direction is Direction.UP and result.buy_modelled
    assert [r.positions for r in result.rounds] == [1, 1]
    assert result.rounds[0].price_after_8dec == 2_601 * USD
    assert result.final_price_8dec == 2_652 * USD
    # the USDC collateral is sold (off the axis), 1.15 x 1 WETH at the round's price each
    assert result.rounds[0].sold[0].symbol == "USDC"
    assert abs(result.rounds[0].sold[0].amount_raw - 2_550 * 115 * 10**4) <= 1


def test_a_rise_without_a_buying_model_stays_at_the_shock() -> None:
    result = run_cascade("ETH", NOW, 2_550 * USD, [short("0xA", 5_000), short("0xB", 5_200)],
                         LinearDepth(0.02), {WETH: NOW})
    assert not result.buy_modelled and result.final_price_8dec == 2_550 * USD
    assert [r.positions for r in result.rounds] == [1]


def test_a_concave_book_charges_a_sale_once_whatever_rounds_it_comes_in() -> None:
    """With a square-root book, selling A then B in two rounds must move the price as selling
    both at once does: a shock that reaches only A (B follows in round 2) cannot end below a
    deeper shock that takes both in round 0 -- the non-monotone curve a per-round impact gave."""
    book = SqrtImpactDepth({WETH: 1_000.0}, {WETH: 18})  # $1,000 moves the price 1%
    two_rounds = run_cascade("ETH", NOW, 1_725 * USD, [position("0xA", 900),
                                                       position("0xB", 860)], book, {WETH: NOW})
    one_round = run_cascade("ETH", NOW, 1_718 * USD, [position("0xA", 900),
                                                      position("0xB", 860)], book, {WETH: NOW})
    assert [r.positions for r in two_rounds.rounds] == [1, 1]
    assert [r.positions for r in one_round.rounds] == [2]
    assert two_rounds.final_price_8dec > one_round.final_price_8dec
    # and the final price is the shocked one less the impact of everything sold since
    sold = sum(r.sold[0].amount_raw for r in two_rounds.rounds)
    expected = book.sell(WETH, sold, 1_725.0).price_after_usd
    assert abs(two_rounds.final_price_8dec / USD - expected) < 1e-6


def test_positions_liquidatable_now_are_reported_apart_unless_included() -> None:
    """Z (1,100 USDC against 1 WETH) is liquidatable at $2,000 already (0.5 x 2,000 < 1,100):
    by default a -1% shock, which reaches nobody else, liquidates nothing and Z is reported
    apart (at $2,000: repays 1,100, sells 1,100 x 1.15 / 2,000 WETH); with include_now Z is
    round 0 of the shock, at the shocked price."""
    z = replace(position("0xZ", 1_100), level_8dec=None, liquidatable_now=True)
    book = [z, position("0xA", 900)]
    apart = run_cascade("ETH", NOW, 1_980 * USD, book, LinearDepth(0.02), {WETH: NOW})
    assert apart.rounds == () and not apart.includes_now
    assert apart.final_price_8dec == 1_980 * USD
    assert apart.now.positions == 1 and apart.now.debt_repaid_usd_8dec == 1_100 * USD
    assert abs(apart.now.sold_usd_8dec - 1_265 * USD) <= 1  # 1,100 x 1.15
    included = run_cascade("ETH", NOW, 1_980 * USD, book, LinearDepth(0.02), {WETH: NOW},
                           include_now=True)
    assert included.includes_now and included.rounds[0].positions == 1
    assert included.rounds[0].liquidations[0].account == "0xZ"
    assert included.final_price_8dec < 1_980 * USD
    assert included.now == apart.now
