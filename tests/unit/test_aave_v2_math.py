"""Aave v2's pure integer rules: accrual (MathUtils/ReserveLogic), GenericLogic, one
liquidationCall, and the USD axis over ETH prices. Expected values are worked by hand from
the v2 sources' formulas; the integration tests judge the same code against the real pool."""

from __future__ import annotations

from decimal import Decimal, getcontext

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.domain import RAY, WAD, Axis
from scanner.protocols.aave_v2.generic_logic import MAX_UINT256, Leg, calculate_totals
from scanner.protocols.aave_v2.interest import (
    SECONDS_PER_YEAR,
    compounded_interest_ray,
    linear_interest_ray,
    ray_mul,
    stable_debt_raw,
)
from scanner.protocols.aave_v2.liquidation import liquidation_call
from scanner.protocols.aave_v2.rule import V2Curve, account_legs, v2_curve
from scanner.protocols.aave_v2.state import (
    V2Account,
    V2MarketState,
    V2Reserve,
    V2StableDebt,
    V2UserReserve,
)
from tests.unit.test_aave_v2_saw import _curve as saw_curve
from tests.unit.test_aave_v2_saw import accounts as saw_accounts

FIVE_PCT_RAY = 5 * 10**25
WETH, USDC, WBTC = "0x" + "11" * 20, "0x" + "22" * 20, "0x" + "33" * 20
USDC_ETH_WEI = 333_333_333_333_333  # $1 at $3,000 per ETH


def test_ray_mul_rounds_half_up() -> None:
    assert ray_mul(3, RAY // 2) == 2  # 1.5 -> 2
    assert ray_mul(1, RAY // 2 - 1) == 0
    assert ray_mul(0, RAY) == 0


def test_linear_interest_is_one_plus_rate_times_years() -> None:
    assert linear_interest_ray(FIVE_PCT_RAY, 0, SECONDS_PER_YEAR) == RAY + FIVE_PCT_RAY
    assert linear_interest_ray(FIVE_PCT_RAY, 100, 100) == RAY


@pytest.mark.parametrize(("seconds", "expected"), [
    pytest.param(0, RAY, id="same-second"),
    # r = 5e25 // 31_536_000 = 1_585_489_599_188_229_325 (ray per second)
    pytest.param(1, RAY + 1_585_489_599_188_229_325, id="one-second-first-term-only"),
    # 2r + 2*1*r2/2, r2 = r.rayMul(r) = 2_513_777_269 (third term 0: exp - 2 is 0 for exp <= 2)
    pytest.param(2, RAY + 2 * 1_585_489_599_188_229_325 + 2_513_777_269, id="two-seconds"),
])
def test_compounded_interest_terms(seconds: int, expected: int) -> None:
    assert compounded_interest_ray(FIVE_PCT_RAY, 1_000, 1_000 + seconds) == expected


def test_compounded_interest_is_close_to_exact_compounding() -> None:
    """Three binomial terms of (1 + r)^n over a month: the dropped fourth term (~1e-11) and
    r^3 rounded to whole ray units (r^3 is ~4 units, so +0.5%: the third term comes out
    slightly HIGH) -- within 1e-10 either way, which is why the mirror computes it exactly."""
    month = 31 * 86_400
    approx = compounded_interest_ray(FIVE_PCT_RAY, 0, month)
    getcontext().prec = 60
    per_second = Decimal(FIVE_PCT_RAY // SECONDS_PER_YEAR) / RAY
    exact = (1 + per_second) ** month * RAY
    assert abs(exact - approx) / RAY < Decimal("1e-10")
    assert approx > RAY + FIVE_PCT_RAY * month // SECONDS_PER_YEAR  # above linear


def test_stable_debt_uses_the_users_own_rate_and_timestamp() -> None:
    loan = V2StableDebt(principal_raw=10**18, rate_ray=FIVE_PCT_RAY, last_update_timestamp=50)
    assert stable_debt_raw(loan, 50) == 10**18
    assert stable_debt_raw(loan, 50 + SECONDS_PER_YEAR) > 10**18 * 105 // 100  # compounds
    assert stable_debt_raw(V2StableDebt(0, FIVE_PCT_RAY, 0), 10**9) == 0


def _leg(asset: str, unit: int, collateral_raw: int, debt_raw: int, lt_bps: int,
         bonus_bps: int = 10_500) -> Leg:
    return Leg(asset, unit, collateral_raw, debt_raw, lt_bps, bonus_bps)


def test_health_factor_is_generic_logic_rounding() -> None:
    """1 WETH (LT 82.5%) against 2,000 USDC: 0.825 / (2000 * USDC_ETH_WEI / 1e18)."""
    legs = (_leg(WETH, 10**18, 10**18, 0, 8_250), _leg(USDC, 10**6, 0, 2_000 * 10**6, 8_500))
    totals = calculate_totals(legs, {WETH: WAD, USDC: USDC_ETH_WEI})
    debt = 2_000 * 10**6 * USDC_ETH_WEI // 10**6
    assert (totals.collateral_eth_wei, totals.debt_eth_wei, totals.avg_lt_bps) == (
        WAD, debt, 8_250)
    assert totals.health_factor_wad == ((WAD * 8_250 + 5_000) // 10_000 * WAD + debt // 2) // debt


def test_average_lt_is_floored_to_whole_bps() -> None:
    legs = (_leg(WETH, 10**18, 10**18, 0, 8_250), _leg(WBTC, 10**8, 10**8, 0, 7_001),
            _leg(USDC, 10**6, 0, 10**6, 8_500))
    totals = calculate_totals(legs, {WETH: WAD, WBTC: 2 * WAD, USDC: USDC_ETH_WEI})
    assert totals.avg_lt_bps == (WAD * 8_250 + 2 * WAD * 7_001) // (3 * WAD)  # 7417.33 -> 7417


def test_no_debt_is_max_health() -> None:
    totals = calculate_totals((_leg(WETH, 10**18, 10**18, 0, 8_250),), {WETH: WAD})
    assert totals.health_factor_wad == MAX_UINT256


def test_liquidation_takes_half_the_debt_with_the_bonus() -> None:
    collateral = _leg(WETH, 10**18, 10 * 10**18, 0, 8_250, bonus_bps=10_500)
    debt = _leg(USDC, 10**6, 0, 20_000 * 10**6, 8_500)
    outcome = liquidation_call(collateral, debt, WAD, USDC_ETH_WEI)
    assert outcome.debt_repaid_raw == 10_000 * 10**6
    seized = (USDC_ETH_WEI * 10_000 * 10**6 * 10**18 * 10_500 + 5_000) // 10_000 // (
        WAD * 10**6)
    assert outcome.collateral_seized_raw == seized


def test_liquidation_capped_by_collateral_repays_less() -> None:
    collateral = _leg(WETH, 10**18, 10**18, 0, 8_250, bonus_bps=10_500)
    debt = _leg(USDC, 10**6, 0, 20_000 * 10**6, 8_500)
    outcome = liquidation_call(collateral, debt, WAD, USDC_ETH_WEI)
    assert outcome.collateral_seized_raw == 10**18
    needed = WAD * 10**18 * 10**6 // (USDC_ETH_WEI * 10**18)
    assert outcome.debt_repaid_raw == (needed * 10_000 + 10_500 // 2) // 10_500


def _curve(eth_moves: bool, members: frozenset[str]) -> V2Curve:
    legs = (_leg(WETH, 10**18, 10**18, 0, 8_250), _leg(USDC, 10**6, 0, 2_000 * 10**6, 8_500))
    return V2Curve(legs=legs, prices_now_eth_wei={WETH: WAD, USDC: USDC_ETH_WEI},
                   axis_members=members, ref_now_8dec=3_000 * 10**8, eth_moves=eth_moves,
                   eth_usd_now_8dec=3_000 * 10**8)


def test_eth_axis_moves_the_other_assets_eth_prices() -> None:
    """ETH at $1,500: WETH stays 1 ETH, a dollar becomes twice as many wei."""
    curve = _curve(True, frozenset({WETH}))
    assert curve.prices_at(1_500 * 10**8) == {WETH: WAD, USDC: USDC_ETH_WEI * 2}
    value = curve.value(1_500 * 10**8)
    assert value.collateral_usd_8dec == 1_500 * 10**8
    assert value.debt_usd_8dec == 2 * 2_000 * 10**6 * USDC_ETH_WEI // 10**6 * 1_500 * 10**8 // WAD


def test_eth_long_liquidation_price_is_debt_over_weighted_collateral() -> None:
    """1 WETH at LT 82.5% against $2,000: liquidated just below $2,000 / 0.825 = $2,424.24."""
    curve = _curve(True, frozenset({WETH}))
    closed = curve.closed_form()
    assert closed is not None and abs(closed - 2_424_24_242_424) < 10**8
    assert curve.healthy(2_425 * 10**8) and not curve.healthy(2_424 * 10**8)


def test_other_axes_move_their_members_in_eth() -> None:
    curve = _curve(False, frozenset({USDC}))
    assert curve.prices_at(2 * 3_000 * 10**8)[USDC] == 2 * USDC_ETH_WEI
    assert curve.eth_usd_at(1) == 3_000 * 10**8


def test_axis_object_maps_to_the_curve() -> None:
    axis = Axis("ETH", frozenset({WETH}), WETH, 3_000 * 10**8)
    assert axis.members == _curve(True, frozenset({WETH})).axis_members


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(legs=saw_accounts(), eth_axis=st.booleans(), x=st.integers(10**9, 10**14))
def test_the_seizable_amount_is_one_liquidation_call_at_x(legs: tuple[Leg, ...],
                                                          eth_axis: bool, x: int) -> None:
    # the solver's seizable amount is found in one pass over the legs, without the price
    # table: it must be the collateral liquidationCall_at(x) seizes, valued at x
    curve = saw_curve(legs, eth_axis)
    outcome = curve.liquidation_call_at(x)
    expected = 0
    if outcome is not None:
        (leg,) = [leg for leg in legs if leg.asset == outcome.collateral_asset]
        seized_eth_wei = (outcome.collateral_seized_raw * curve.prices_at(x)[leg.asset]
                          // leg.unit)
        expected = seized_eth_wei * curve.eth_usd_at(x) // WAD
    assert curve.seizable_usd_8dec(x) == expected


def test_legs_come_in_reserve_id_order_with_their_prices() -> None:
    # the pool's list order, not the order an account's reserves were read in
    def reserve(asset: str, reserve_id: int, price: int) -> V2Reserve:
        return V2Reserve(asset, asset, reserve_id, 18, 8_000, 8_250, 10_500, True, False, True,
                         False, price, RAY, RAY, 0, 0, 0, "0xa", "0xs", "0xv")

    def held(asset: str, supplied: int, debt: int) -> V2UserReserve:
        return V2UserReserve(asset, True, debt > 0, supplied, debt, V2StableDebt(0, 0, 0),
                             supplied, debt, 0)

    reserves = {"0xC": reserve("0xC", 2, 3), "0xA": reserve("0xA", 0, 1),
                "0xB": reserve("0xB", 1, 2)}
    market = V2MarketState("m", "0xPool", 2, "0xA", 3_000 * 10**8, 1, 1, reserves)
    account = V2Account("0xU", (held("0xC", 5, 0), held("0xA", 0, 7), held("0xB", 9, 0)),
                        0, 0, 0, 0)
    legs = account_legs(account, market)
    assert [leg.asset for leg in legs] == ["0xA", "0xB", "0xC"]
    assert [(leg.collateral_raw, leg.debt_raw) for leg in legs] == [(0, 7), (9, 0), (5, 0)]
    axis = Axis("ETH", frozenset({"0xA"}), "0xA", 3_000 * 10**8, quote_price_8dec=1)
    assert v2_curve(account, market, axis).prices_now_eth_wei == {"0xA": 1, "0xB": 2, "0xC": 3}
