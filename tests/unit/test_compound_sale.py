"""The Comet sale by hand: absorb, then the store front (buyCollateral at quoteCollateral's
price) only while the reserves are below targetReserves."""

from __future__ import annotations

from scanner.protocols.compound_v3.curve import CometCurve
from scanner.protocols.compound_v3.liquidation_sale import LEDGER, liquidation_sale
from scanner.protocols.compound_v3.rule import (
    CometAccount,
    CometAsset,
    CometPrices,
    CometRates,
    CometTotals,
)
from scanner.protocols.compound_v3.state import CometMarketState, CometStoreFront, CometUser

WETH, USDC = "0xWETH", "0xUSDC"
USDC_6 = 10**6
# no interest: every index 1e15 and the block at the last accrual
TOTALS = CometTotals(10**15, 10**15, 10**12, 10**11, 1_000)
RATES = CometRates(0, 0, 0, 0, 0, 0, 0, 0)


def _curve(reserves_usdc: int, target_usdc: int) -> CometCurve:
    # WETH: liquidate factor 0.85, liquidation factor 0.90; store-front factor 0.5
    weth = CometAsset(0, WETH, 10**18, 8 * 10**17, 85 * 10**16, 9 * 10**17)
    market = CometMarketState(
        market_key="m", comet="0xC", block=1, block_timestamp=1_000, base_token=USDC,
        base_symbol="USDC", base_scale=USDC_6, rates=RATES, stored_totals=TOTALS,
        accrued_totals=TOTALS, assets=(weth,), symbols={WETH: "WETH"},
        prices=CometPrices(10**8, {WETH: 2_500 * 10**8}), quote_usd_8dec=None,
        store_front=CometStoreFront(5 * 10**17, target_usdc * USDC_6, reserves_usdc * USDC_6))
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
    assert sale.ledger_after == 900 * USDC_6
    assert sale.after is None


def test_closed_store_front_keeps_the_collateral() -> None:
    # 3,000 - 2,000 = 1,000 >= target 1,000: NotForSale, nothing reaches the market; the
    # reserves paid 2,000 against a 1,800 credit
    sale = liquidation_sale(_curve(3_000, 1_000), 2_000 * 10**8)
    assert sale is not None
    assert sale.sold == ()
    assert sale.bad_debt_usd_8dec == 200 * 10**8
    assert sale.ledger_after == 1_000 * USDC_6


def test_the_reserves_are_shared_across_absorbs() -> None:
    # 4,500 -> first absorb leaves 2,500 >= 1,000 (closed, kept); the second leaves 500 (open)
    curve = _curve(4_500, 1_000)
    first = liquidation_sale(LEDGER.bind(curve, LEDGER.read(curve)), 2_000 * 10**8)
    assert first is not None and first.sold == () and first.ledger_after == 2_500 * USDC_6
    second = liquidation_sale(LEDGER.bind(curve, first.ledger_after), 2_000 * 10**8)
    assert second is not None and [s.amount_raw for s in second.sold] == [10**18]
    assert second.ledger_after == 2_400 * USDC_6


def test_a_healthy_position_is_not_absorbed() -> None:
    assert liquidation_sale(_curve(1_000, 10_000), 2_500 * 10**8) is None
