"""The Comet sale by hand: absorb, then the store front (buyCollateral at quoteCollateral's
price) only while the reserves are below targetReserves; the collateral the Comet already
held is for sale too; the buyer stops where reselling on the market no longer pays; the
discount given up is reported."""

from __future__ import annotations

import pytest

from scanner.cascade.depth_models import SqrtImpactDepth, UniswapDepth
from scanner.cascade.engine import Exposure, run_cascade
from scanner.domain import Direction
from scanner.protocols.compound_v3.curve import CometCurve
from scanner.protocols.compound_v3.liquidation_sale import LEDGER, liquidation_sale
from scanner.protocols.compound_v3.rule import (
    CometAccount,
    CometAsset,
    CometPrices,
    CometRates,
    CometTotals,
)
from scanner.protocols.compound_v3.state import (
    CometMarketState,
    CometStoreFront,
    CometUser,
    StoreStock,
)
from scanner.protocols.compound_v3.store_buyer import buyer_stop_raw
from scanner.store.cascades import CascadeRun, cascade_json
from tests.unit.test_depth_models import USDC as POOL_USDC
from tests.unit.test_depth_models import WETH as POOL_WETH
from tests.unit.test_depth_models import _one_range_pool

WETH, USDC, WBTC = POOL_WETH, POOL_USDC, "0xWBTC"
ETH = 10**18
USDC_6 = 10**6
# no interest: every index 1e15 and the block at the last accrual
TOTALS = CometTotals(10**15, 10**15, 10**12, 10**11, 1_000)
RATES = CometRates(0, 0, 0, 0, 0, 0, 0, 0)


def _curve(reserves_usdc: int, target_usdc: int, held: dict[str, int] | None = None,
           factor_wad: int = 5 * 10**17) -> CometCurve:
    # WETH: liquidate factor 0.85, liquidation factor 0.90; store-front factor 0.5 (WBTC,
    # off the axis, at $50,000: liquidation factor 0.90 too)
    weth = CometAsset(0, WETH, 10**18, 8 * 10**17, 85 * 10**16, 9 * 10**17)
    wbtc = CometAsset(1, WBTC, 10**8, 7 * 10**17, 75 * 10**16, 9 * 10**17)
    market = CometMarketState(
        market_key="m", comet="0xC", block=1, block_timestamp=1_000, base_token=USDC,
        base_symbol="USDC", base_scale=USDC_6, rates=RATES, stored_totals=TOTALS,
        accrued_totals=TOTALS, assets=(weth, wbtc), symbols={WETH: "WETH", WBTC: "WBTC"},
        prices=CometPrices(10**8, {WETH: 2_500 * 10**8, WBTC: 50_000 * 10**8}),
        quote_usd_8dec=None,
        store_front=CometStoreFront(factor_wad, target_usdc * USDC_6, reserves_usdc * USDC_6,
                                    held or {}))
    user = CometUser("0xA", CometAccount(-2_000 * USDC_6, 1, {WETH: 10**18}), 0, False)
    return CometCurve(user, market, frozenset({WETH}), 2_500 * 10**8)


def test_open_store_front_sells_at_the_discount_and_counts_it_in_bad_debt() -> None:
    # at ETH 2,000: liquidity -2,000 + 0.85 x 2,000 < 0; absorb credits 0.9 x 2,000 = 1,800
    # and the reserves pay the whole 2,000 debt: 1,000 - 2,000 < target 10,000 -> open.
    # Store-front price 2,000 x (1 - 0.5 x (1 - 0.9)) = 1,900: the buyer pays 1,900 USDC for
    # the 1 WETH; the reserves end at 900; 2,000 - 1,900 = 100 of the debt is not recovered
    sale = liquidation_sale(_curve(1_000, 10_000), 2_000 * 10**8)
    assert sale is not None
    assert [(s.asset, s.amount_raw, s.usd_8dec) for s in sale.sold] == [
        (WETH, 10**18, 2_000 * 10**8)]
    assert sale.debt_repaid_usd_8dec == 2_000 * 10**8
    assert sale.bad_debt_usd_8dec == 100 * 10**8
    assert sale.ledger_after.reserves_raw == 900 * USDC_6
    assert sale.ledger_after.collateral_raw == {WETH: 0}
    assert sale.after is None
    # the 100 the buyer got below the oracle value is the discount given up
    assert sale.store_discount_usd_8dec == 100 * 10**8


def test_closed_store_front_keeps_the_collateral() -> None:
    # 3,000 - 2,000 = 1,000 >= target 1,000: NotForSale, nothing reaches the market; the
    # reserves paid 2,000 against a 1,800 credit
    sale = liquidation_sale(_curve(3_000, 1_000), 2_000 * 10**8)
    assert sale is not None
    assert sale.sold == ()
    assert sale.bad_debt_usd_8dec == 200 * 10**8
    assert sale.store_discount_usd_8dec == 0
    assert sale.ledger_after.collateral_raw == {WETH: ETH}  # kept in the Comet, unsold
    assert sale.ledger_after.reserves_raw == 1_000 * USDC_6


def test_the_reserves_are_shared_across_absorbs() -> None:
    # 4,500 -> first absorb leaves 2,500 >= 1,000 (closed, kept); the second leaves 500
    # (open): the buyer takes the second's WETH and the first's, left in the Comet
    curve = _curve(4_500, 1_000)
    first = liquidation_sale(LEDGER.bind(curve, LEDGER.read(curve)), 2_000 * 10**8)
    assert first is not None and first.sold == ()
    assert first.ledger_after.reserves_raw == 2_500 * USDC_6
    second = liquidation_sale(LEDGER.bind(curve, first.ledger_after), 2_000 * 10**8)
    assert second is not None and [s.amount_raw for s in second.sold] == [2 * ETH]
    assert second.ledger_after.reserves_raw == (500 + 2 * 1_900) * USDC_6
    assert second.bad_debt_usd_8dec == 100 * 10**8  # its own WETH brought 1,900
    assert second.store_discount_usd_8dec == 200 * 10**8


def test_a_healthy_position_is_not_absorbed() -> None:
    assert liquidation_sale(_curve(1_000, 10_000), 2_500 * 10**8) is None


def test_collateral_held_before_is_sold_with_the_absorbed() -> None:
    # the Comet already holds 2 WETH: with the 1 absorbed, 3 WETH on sale at 1,900 each.
    # Reserves 1,000 - 2,000 + 3 x 1,900 = 4,700. The position's own WETH brought 1,900
    # (bad debt 100 as alone); the discount is 3 x 100 = 300, all of it reported
    sale = liquidation_sale(_curve(1_000, 10_000, {WETH: 2 * ETH}), 2_000 * 10**8)
    assert sale is not None
    assert [(s.asset, s.amount_raw, s.usd_8dec) for s in sale.sold] == [
        (WETH, 3 * ETH, 6_000 * 10**8)]
    assert sale.bad_debt_usd_8dec == 100 * 10**8
    assert sale.store_discount_usd_8dec == 300 * 10**8
    assert sale.ledger_after.reserves_raw == 4_700 * USDC_6
    assert sale.ledger_after.collateral_raw == {WETH: 0}


def test_a_buy_that_fills_the_reserves_closes_the_store_to_the_next_asset() -> None:
    # target 3,000: the absorb leaves the reserves at -1,000 (open); the WETH buy takes them
    # to 4,700 >= 3,000, so the held WBTC (checked next, in the Comet's asset order) is
    # NotForSale and stays in the Comet
    held = {WETH: 2 * ETH, WBTC: 10**8}
    sale = liquidation_sale(_curve(1_000, 3_000, held), 2_000 * 10**8)
    assert sale is not None
    assert [s.asset for s in sale.sold] == [WETH]
    assert sale.ledger_after.collateral_raw == {WETH: 0, WBTC: 10**8}
    # with a target the WETH buy does not reach, the WBTC is bought whole (off the axis)
    # at 50,000 x (1 - 0.05) = 47,500: reserves 4,700 + 47,500 (plus the 474e-6 USDC the
    # largest payment quoting 1 WBTC exceeds 47,500 by: a WBTC unit is worth 475e-6 USDC)
    sale = liquidation_sale(_curve(1_000, 10**6, held), 2_000 * 10**8)
    assert sale is not None
    assert [(s.asset, s.amount_raw) for s in sale.sold] == [(WETH, 3 * ETH), (WBTC, 10**8)]
    assert sale.ledger_after.reserves_raw == (4_700 + 47_500) * USDC_6 + 474
    assert sale.store_discount_usd_8dec == (300 + 2_500) * 10**8 - 47_400


def test_the_buyer_stops_where_the_square_root_market_reaches_the_store_price() -> None:
    # store price 2,000 x (1 - 0.2 x 0.1) = 1,960: the market after the resale is
    # 2,000 x (1 - 1% x sqrt(N / 1,000)) >= 1,960 while N <= 1,000 x 2^2 = $4,000: 2 WETH
    depth = SqrtImpactDepth({WETH: 1_000.0}, {WETH: 18})
    assert buyer_stop_raw(depth, WETH, 10 * ETH, 2_000.0, 1_960.0) == pytest.approx(
        2 * ETH, rel=1e-8)
    assert buyer_stop_raw(depth, WETH, ETH, 2_000.0, 1_960.0) == ETH  # all of a small offer
    assert buyer_stop_raw(depth, WETH, ETH, 2_000.0, 2_000.0) == 0  # no discount: no buy


def test_the_buyer_stops_where_one_pool_reaches_the_store_price() -> None:
    # one Uniswap v3 range (liquidity L = 1e18, fee 0.05%) moved to $2,000: selling dx WETH
    # (after the fee) moves sqrtP to 1 / (1/sqrtP + dx/L); the store price is 2% below,
    # so the buyer stops at dx = L/sqrtP x (1/sqrt(0.98) - 1), gross dx / (1 - 0.0005)
    pools = UniswapDepth({WETH: (_one_range_pool(),)}, {USDC: 6})
    sqrt_price = (2_000 * 10**6 / 10**18) ** 0.5  # USDC raw per WETH raw
    expected = 10**18 / sqrt_price * (1 / 0.98**0.5 - 1) / (1 - 0.0005)
    stop = buyer_stop_raw(pools, WETH, 300 * ETH, 2_000.0, 1_960.0)
    assert stop == pytest.approx(expected, rel=1e-6)
    after = pools.sell(WETH, stop, 2_000.0).price_after_usd
    assert 1_960.0 <= after < pools.sell(WETH, stop - ETH // 1000, 2_000.0).price_after_usd


def test_in_a_cascade_the_buyer_leaves_what_does_not_pay_in_the_comet() -> None:
    # store factor 0.2: price 1,960 at ETH 2,000; a $1,000-per-1% market: the buyer resells
    # 2 WETH at this price, all absorbs together. Pre-held 1.5 WETH + 1 absorbed: it buys 2,
    # 0.5 stays; a second absorb at the same price finds the market already at 1,960: its
    # 1 WETH stays too (+ the 0.5)
    depth = SqrtImpactDepth({WETH: 1_000.0}, {WETH: 18})
    curve = _curve(1_000, 10**6, {WETH: 3 * ETH // 2}, factor_wad=2 * 10**17)
    assert LEDGER.resell is not None
    first = liquidation_sale(LEDGER.resell(LEDGER.bind(curve, LEDGER.read(curve)), depth),
                             2_000 * 10**8)
    assert first is not None
    assert [s.amount_raw for s in first.sold] == [pytest.approx(2 * ETH, rel=1e-8)]
    stock: StoreStock = first.ledger_after
    assert stock.collateral_raw[WETH] == pytest.approx(ETH // 2, rel=1e-8)
    # the position's own 1 WETH went first: proceeds 1,960 against the 2,000 debt
    assert first.bad_debt_usd_8dec == pytest.approx(40 * 10**8, rel=1e-9)
    assert first.store_discount_usd_8dec == pytest.approx(80 * 10**8, rel=1e-8)
    second = liquidation_sale(curve.with_stock(stock).with_resale(depth), 2_000 * 10**8)
    # (the first buy's rounding to whole USDC units leaves it a few 1e-7 WETH of room)
    assert second is not None and sum(s.amount_raw for s in second.sold) < 10**12
    assert second.ledger_after.collateral_raw[WETH] > stock.collateral_raw[WETH] + ETH - 10**12
    # unsold: the absorb credit 0.9 x 2,000 = 1,800 counts against the debt
    assert second.bad_debt_usd_8dec == pytest.approx(200 * 10**8, rel=1e-6)
    # at a lower price (the next round) the buyer starts afresh
    third = liquidation_sale(curve.with_stock(second.ledger_after).with_resale(depth),
                             1_900 * 10**8)
    assert third is not None and third.sold


def test_the_cascade_hands_the_buyer_its_depth_model() -> None:
    # ETH 2,500 -> 2,000: the absorb puts 1 WETH + 3 held on sale at 1,960; the engine's
    # square-root market ($1,000 per 1%) lets the buyer resell 2 WETH (the market to 1,960),
    # and the engine moves the axis by the same 2% -- then nothing is absorbed: 2 WETH stay
    depth = SqrtImpactDepth({WETH: 1_000.0}, {WETH: 18})
    curve = _curve(1_000, 10**6, {WETH: 3 * ETH}, factor_wad=2 * 10**17)
    exposure = Exposure("m", "compound_v3", "0xA", curve, liquidation_sale, Direction.DOWN,
                        2_350 * 10**8, 2_500 * 10**8, {WETH: "WETH"}, LEDGER)
    result = run_cascade("ETH", 2_500 * 10**8, 2_000 * 10**8, [exposure], depth,
                         {WETH: 2_500 * 10**8})
    (first,) = result.rounds
    assert [s.amount_raw for s in first.sold] == [pytest.approx(2 * ETH, rel=1e-8)]
    assert result.final_price_8dec == pytest.approx(1_960 * 10**8, rel=1e-9)
    assert result.store_discount_usd_8dec == pytest.approx(80 * 10**8, rel=1e-8)
    out = cascade_json(CascadeRun(result, -2_000, "external"))
    assert out["store_discount_usd_8dec"] == result.store_discount_usd_8dec
    assert out["path"][0]["store_discount_usd_8dec"] == first.store_discount_usd_8dec
