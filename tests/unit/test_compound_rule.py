"""Comet rule (scanner/protocols/compound_v3/rule.py): hand-computed expectations."""

from __future__ import annotations

import pytest

from scanner.errors import InconsistentDataError
from scanner.protocols.compound_v3.rule import (
    BASE_INDEX_SCALE,
    FACTOR_SCALE,
    CometAccount,
    CometAsset,
    CometPrices,
    CometRates,
    CometRevertError,
    CometTotals,
    absorb_outcome,
    accrue,
    borrow_rate_per_second_wad,
    is_borrow_collateralized,
    is_liquidatable,
    liquidity_8dec,
    present_debt_raw,
    present_value,
    principal_value,
    signed_mul_price,
    supply_rate_per_second_wad,
    utilization_wad,
)

USDC_SCALE = 10**6
USD = 10**8
WETH, WBTC = "0xWETH", "0xWBTC"
YEAR = 31_536_000
DAYS_30 = 30 * 86_400

# per-year fractions divided by SECONDS_PER_YEAR and truncated, as the Comet constructor does
RATES = CometRates(
    supply_kink_wad=9 * 10**17,
    supply_slope_low_per_second_wad=5 * 10**16 // YEAR,  # 1_585_489_599
    supply_slope_high_per_second_wad=2 * 10**18 // YEAR,  # 63_419_583_967
    supply_base_per_second_wad=0,
    borrow_kink_wad=9 * 10**17,
    borrow_slope_low_per_second_wad=5 * 10**16 // YEAR,  # 1_585_489_599
    borrow_slope_high_per_second_wad=3 * 10**18 // YEAR,  # 95_129_375_951
    borrow_base_per_second_wad=15 * 10**15 // YEAR,  # 475_646_879
)
WETH_ASSET = CometAsset(0, WETH, 10**18, 83 * 10**16, 90 * 10**16, 95 * 10**16)
WBTC_ASSET = CometAsset(1, WBTC, 10**8, 80 * 10**16, FACTOR_SCALE, 95 * 10**16)
ASSETS = (WETH_ASSET, WBTC_ASSET)


def totals(supply_index: int = BASE_INDEX_SCALE, borrow_index: int = BASE_INDEX_SCALE,
           supplied: int = 1_000 * USDC_SCALE, borrowed: int = 800 * USDC_SCALE) -> CometTotals:
    return CometTotals(supply_index, borrow_index, supplied, borrowed, last_accrual_time=1_000)


def weth_borrower(principal: int, weth_raw: int = 10**18, assets_in: int = 0b01) -> CometAccount:
    return CometAccount(principal, assets_in, {WETH: weth_raw})


def prices(weth_8dec: int = 2_000 * USD, base_8dec: int = USD, wbtc_8dec: int = 60_000 * USD
           ) -> CometPrices:
    return CometPrices(base_8dec, {WETH: weth_8dec, WBTC: wbtc_8dec})


def test_signed_mul_price_truncates_toward_zero() -> None:
    # -21 / 2 = -10.5: Solidity gives -10 where Python's // gives -11
    assert signed_mul_price(-7, 3, 2) == -10
    assert signed_mul_price(7, 3, 2) == 10


def test_rates_below_and_above_kink() -> None:
    assert utilization_wad(totals()) == 8 * 10**17
    # below the kink: base + low * 0.8 = 475_646_879 + floor(1_585_489_599 * 0.8)
    assert borrow_rate_per_second_wad(RATES, 8 * 10**17) == 475_646_879 + 1_268_391_679
    assert supply_rate_per_second_wad(RATES, 8 * 10**17) == 1_268_391_679
    # above: base + low * 0.9 + high * 0.05 = 475_646_879 + 1_426_940_639 + 4_756_468_797
    assert borrow_rate_per_second_wad(RATES, 95 * 10**16) == 6_659_056_315


def test_accrue_is_one_linear_step_over_the_elapsed_time() -> None:
    accrued = accrue(totals(), RATES, 1_000 + DAYS_30)
    # borrow: 1e15 * 1_744_038_558 * 2_592_000 / 1e18 = 1_744_038_558 * 2_592 = 4_520_547_942_336
    assert accrued.base_borrow_index == BASE_INDEX_SCALE + 4_520_547_942_336
    # supply: 1_268_391_679 * 2_592 = 3_287_671_231_968
    assert accrued.base_supply_index == BASE_INDEX_SCALE + 3_287_671_231_968
    assert accrued.last_accrual_time == 1_000 + DAYS_30
    assert (accrued.total_supply_base, accrued.total_borrow_base) == (1_000 * USDC_SCALE,
                                                                      800 * USDC_SCALE)
    # two steps compound, so they differ from one step over the same time
    twice = accrue(accrue(totals(), RATES, 1_000 + DAYS_30 // 2), RATES, 1_000 + DAYS_30)
    assert twice.base_borrow_index != accrued.base_borrow_index


def test_accrue_edge_cases() -> None:
    assert accrue(totals(), RATES, 1_000) == totals()
    with pytest.raises(InconsistentDataError, match="after timestamp"):
        accrue(totals(), RATES, 999)
    huge = CometRates(*([0] * 7), borrow_base_per_second_wad=10**18)
    with pytest.raises(CometRevertError, match="index"):
        accrue(totals(borrow_index=2**63), huge, 1_000 + 10)


def test_present_and_principal_value_round_like_comet() -> None:
    indexed = totals(supply_index=1_004_500_000_000_000, borrow_index=1_004_500_000_000_000)
    # 1000 * 1.0045 = 1004.5: both sides floored in magnitude
    assert present_value(-1_000, indexed) == -1_004
    assert present_value(1_000, indexed) == 1_004
    assert present_debt_raw(-1_000, indexed) == 1_004
    assert present_debt_raw(1_000, indexed) == 0
    # back: 1004 / 1.0045 = 999.502..., borrow rounds up, supply down
    assert principal_value(-1_004, indexed) == -1_000
    assert principal_value(1_004, indexed) == 999
    with pytest.raises(CometRevertError, match="principal"):
        principal_value(2**104, totals())


@pytest.mark.parametrize(("debt_raw", "liquidatable"), [
    pytest.param(1_800 * USDC_SCALE, False, id="debt-equals-capacity"),
    pytest.param(1_800 * USDC_SCALE + 1, True, id="one-unit-past"),
])
def test_is_liquidatable_boundary(debt_raw: int, liquidatable: bool) -> None:
    # 1 WETH at $2000 x 0.90 = $1800 of liquidation capacity; debt at index 1 is the principal
    account = weth_borrower(-debt_raw)
    assert is_liquidatable(account, ASSETS, prices(), USDC_SCALE, totals()) is liquidatable
    assert liquidity_8dec(account, ASSETS, prices(), USDC_SCALE, totals()) == \
        1_800 * USD - debt_raw * USD // USDC_SCALE


def test_signed_rounding_decides_the_boundary() -> None:
    # debt value: 1_000_001 * 99_990_000 / 1e6 = 99_990_099.98..., truncated to -99_990_099;
    # collateral: 1 WBTC at 0.99990099 USD x factor 1.0 = 99_990_099 -> liquidity exactly 0
    account = CometAccount(-1_000_001, 0b10, {WBTC: 10**8})
    at = prices(base_8dec=99_990_000, wbtc_8dec=99_990_099)
    assert liquidity_8dec(account, ASSETS, at, USDC_SCALE, totals()) == 0
    assert not is_liquidatable(account, ASSETS, at, USDC_SCALE, totals())


def test_only_assets_in_count_and_borrow_factor() -> None:
    # a balance whose assetsIn bit is clear is not read, as in the contract
    account = CometAccount(-1_000 * USDC_SCALE, 0b01, {WETH: 10**18, WBTC: 10**8})
    assert liquidity_8dec(account, ASSETS, prices(), USDC_SCALE, totals()) == 800 * USD
    # borrow side: 2000 x 0.83 = 1660 >= 1000
    assert is_borrow_collateralized(account, ASSETS, prices(), USDC_SCALE, totals())
    assert not is_borrow_collateralized(weth_borrower(-1_661 * USDC_SCALE), ASSETS, prices(),
                                        USDC_SCALE, totals())
    supplier = CometAccount(5, 0, {})
    assert liquidity_8dec(supplier, ASSETS, prices(), USDC_SCALE, totals()) == 0
    assert not is_liquidatable(supplier, ASSETS, prices(), USDC_SCALE, totals())


def test_absorb_seizes_everything_and_floors_at_zero() -> None:
    # debt 2500 > 2000 x 0.95 = 1900 credited: the reserves take the remaining 600
    outcome = absorb_outcome(weth_borrower(-2_500 * USDC_SCALE), ASSETS, prices(), USDC_SCALE,
                             totals())
    assert outcome.seized_raw == {WETH: 10**18}
    assert outcome.seized_value_8dec == {WETH: 2_000 * USD}
    assert (outcome.old_balance_raw, outcome.new_balance_raw) == (-2_500 * USDC_SCALE, 0)
    assert (outcome.new_principal, outcome.base_paid_out_raw) == (0, 2_500 * USDC_SCALE)
    assert outcome.base_paid_out_value_8dec == 2_500 * USD


def test_absorb_surplus_becomes_a_supply_principal() -> None:
    # debt 1850 > 1800 capacity; credit 1900 -> +50 USDC, principal floor(50e6 / 1.1) at index 1.1
    indexed = totals(supply_index=1_100_000_000_000_000)
    outcome = absorb_outcome(weth_borrower(-1_850 * USDC_SCALE), ASSETS, prices(), USDC_SCALE,
                             indexed)
    assert outcome.new_balance_raw == 50 * USDC_SCALE
    assert outcome.new_principal == 45_454_545
    assert outcome.base_paid_out_raw == 1_900 * USDC_SCALE


def test_absorb_of_a_healthy_account_reverts() -> None:
    with pytest.raises(CometRevertError, match="NotLiquidatable"):
        absorb_outcome(weth_borrower(-1_000 * USDC_SCALE), ASSETS, prices(), USDC_SCALE, totals())


def test_bad_price_reverts() -> None:
    with pytest.raises(CometRevertError, match="BadPrice"):
        is_liquidatable(weth_borrower(-1), ASSETS, prices(weth_8dec=0), USDC_SCALE, totals())
