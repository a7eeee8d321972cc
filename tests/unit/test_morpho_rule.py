"""Morpho Blue's rule: hand-computed values of MathLib, SharesMathLib and the health check."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.protocols.morpho_blue.rule import (
    ORACLE_PRICE_SCALE,
    WAD,
    MarketTotals,
    accrue_interest,
    borrowed_assets,
    is_healthy,
    liquidate_all_debt,
    liquidation_incentive_factor_wad,
    liquidation_price_1e36,
    seized_all_debt_raw,
    to_assets_up,
    w_taylor_compounded,
)

YEAR = 365 * 24 * 3600
RATE_5PCT = 1_585_489_599  # per second, WAD


def test_taylor_compounding_three_floored_terms() -> None:
    first = RATE_5PCT * YEAR
    second = first * first // (2 * WAD)
    third = second * first // (3 * WAD)
    assert w_taylor_compounded(RATE_5PCT, YEAR) == first + second + third
    assert 51_270_000_000_000_000 < first + second + third < 51_272_000_000_000_000  # ~e^0.05-1


def test_accrual_with_fee_mints_supply_shares() -> None:
    market = MarketTotals(1_000_000, 10**12, 500_000, 5 * 10**11, 100, 10**17)  # 10% fee
    accrued = accrue_interest(market, RATE_5PCT, 100 + YEAR)
    interest = 500_000 * w_taylor_compounded(RATE_5PCT, YEAR) // WAD
    assert accrued.total_borrow_assets == 500_000 + interest
    assert accrued.total_supply_assets == 1_000_000 + interest
    fee = interest // 10
    expected_fee_shares = fee * (10**12 + 10**6) // (1_000_000 + interest - fee + 1)
    assert accrued.total_supply_shares == 10**12 + expected_fee_shares
    assert accrued.total_borrow_shares == market.total_borrow_shares
    assert accrued.last_update == 100 + YEAR


def test_no_time_no_interest() -> None:
    market = MarketTotals(10, 10, 5, 5, 7, 0)
    assert accrue_interest(market, RATE_5PCT, 7) == market


def test_debt_rounds_up() -> None:
    market = MarketTotals(0, 0, 3, 2 * 10**6, 0, 0)
    # 1 share of (3 + 1) assets / (2e6 + 1e6) shares = 1.33e-6, rounded up to 1
    assert borrowed_assets(1, market) == 1 == to_assets_up(1, 3, 2 * 10**6)


@pytest.mark.parametrize(("lltv", "factor"), [
    (860 * 10**15, WAD * WAD // (WAD - 3 * 10**17 * 14 * 10**16 // WAD)),
    (10**17, 115 * 10**16),  # capped at 1.15
])
def test_liquidation_incentive_factor(lltv: int, factor: int) -> None:
    assert liquidation_incentive_factor_wad(lltv) == factor


def test_liquidation_price_is_the_exact_boundary() -> None:
    collateral, lltv = 3 * 10**18, 860 * 10**15  # 3 WETH
    market = MarketTotals(0, 0, 5_000 * 10**6, 5_000 * 10**12, 0, 0)  # 1e6 shares per unit
    shares = 4_000 * 10**12
    debt = borrowed_assets(shares, market)
    price = liquidation_price_1e36(collateral, debt, lltv)
    assert price is not None
    assert is_healthy(collateral, shares, market, price, lltv)
    assert not is_healthy(collateral, shares, market, price - 1, lltv)
    # the closed form debt / (collateral * lltv), to within one loan unit of collateral value
    closed_form = debt * ORACLE_PRICE_SCALE * WAD // (collateral * lltv)
    assert abs(price - closed_form) <= ORACLE_PRICE_SCALE // collateral + 1


def test_no_debt_has_no_liquidation_price() -> None:
    assert liquidation_price_1e36(10**18, 0, 860 * 10**15) is None


def test_liquidating_bad_debt_seizes_all_collateral() -> None:
    market = MarketTotals(0, 0, 10_000, 10_000 * 10**6, 0, 0)
    result = liquidate_all_debt(1_000, 10_000 * 10**6, market, 5 * ORACLE_PRICE_SCALE, 860 * 10**15)
    assert result.seized_collateral_raw == 1_000
    assert 0 < result.repaid_shares < 10_000 * 10**6


@settings(max_examples=300, deadline=None)
@given(collateral=st.integers(0, 10**24), shares=st.integers(1, 10**30),
       price=st.integers(1, 10**42), lltv_pct=st.sampled_from([385, 625, 860, 945, 980]))
def test_seized_alone_is_what_liquidating_all_the_debt_seizes(
        collateral: int, shares: int, price: int, lltv_pct: int) -> None:
    # the scan's seizable figure takes the seized collateral alone: the same as the whole
    # liquidate's, capped or not (the boundary, seized == collateral exactly, included)
    market = MarketTotals(10**25, 10**31, 5 * 10**24, 5 * 10**30, 0, 0)
    lltv = lltv_pct * 10**15
    whole = liquidate_all_debt(collateral, shares, market, price, lltv)
    alone = seized_all_debt_raw(collateral, shares, market, price,
                                liquidation_incentive_factor_wad(lltv))
    assert alone == whole.seized_collateral_raw
    exact = seized_all_debt_raw(10**30, shares, market, price,
                                liquidation_incentive_factor_wad(lltv))
    assert seized_all_debt_raw(exact, shares, market, price,
                               liquidation_incentive_factor_wad(lltv)) == (
        liquidate_all_debt(exact, shares, market, price, lltv).seized_collateral_raw)
