"""Aave v2 where collateral and debt both move with the axis: per-leg floors saw HF at unit
scale, and the solver's price must still be the first crossing met from today. On the ETH
axis the moving prices are `price * ref // x`: the certificate of aave_v3/axis_saw.py runs in
1 / x (scanner/protocols/aave_v2/rule.py)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.domain import WAD, Direction
from scanner.pipeline import liquidation
from scanner.protocols.aave_v2.generic_logic import Leg
from scanner.protocols.aave_v2.rule import V2Curve
from tests.saw_checks import (
    assert_certified_onward,
    assert_interval_proof_sound,
    assert_no_crossing_nearer_today,
)

WETH, STETH, WBTC, USDC, DAI = "0xWETH", "0xSTETH", "0xWBTC", "0xUSDC", "0xDAI"
PRICE_ETH_WEI = {WETH: WAD, STETH: WAD * 99 // 100, WBTC: 20 * WAD,
                 USDC: 333_333_333_333_333, DAI: 333_400_000_000_000}
UNIT = {WETH: 10**18, STETH: 10**18, WBTC: 10**8, USDC: 10**6, DAI: 10**18}
LT_BPS = {WETH: 8_250, STETH: 7_500, WBTC: 7_000, USDC: 8_500, DAI: 8_000}
ETH_MEMBERS = frozenset({WETH, STETH})
WINDOW = 2_000  # units on today's side of the price, checked by the rule alone
CHECKED_UNITS = 400


def _curve(legs: tuple[Leg, ...], eth_axis: bool = True) -> V2Curve:
    return V2Curve(legs=legs, prices_now_eth_wei=dict(PRICE_ETH_WEI),
                   axis_members=ETH_MEMBERS if eth_axis else frozenset({WBTC}),
                   ref_now_8dec=(3_000 if eth_axis else 60_000) * 10**8, eth_moves=eth_axis,
                   eth_usd_now_8dec=3_000 * 10**8)


@st.composite
def accounts(draw: st.DrawFn) -> tuple[Leg, ...]:
    """Two to four reserves, each supplied or borrowed, debt at 30-85% of the collateral."""
    assets = draw(st.lists(st.sampled_from(sorted(PRICE_ETH_WEI)), min_size=2, max_size=4,
                           unique=True))
    sides = [(asset, draw(st.booleans()), draw(st.integers(10**14, 10**21)))
             for asset in assets]  # (asset, supplied?, ETH value in wei)
    collateral = sum(value for _, supplied, value in sides if supplied)
    debt = sum(value for _, supplied, value in sides if not supplied)
    if not collateral or not debt:
        return ()
    scale = collateral * draw(st.integers(30, 85)) / 100 / debt
    legs = []
    for asset, supplied, value in sides:
        raw = int((value if supplied else value * scale) * UNIT[asset] / PRICE_ETH_WEI[asset])
        legs.append(Leg(asset, UNIT[asset], raw if supplied else 0, 0 if supplied else raw,
                        LT_BPS[asset], 10_500))
    return tuple(legs)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(legs=accounts(), eth_axis=st.booleans())
def test_no_crossing_just_nearer_today(legs: tuple[Leg, ...], eth_axis: bool) -> None:
    if legs:
        assert_no_crossing_nearer_today(_curve(legs, eth_axis), WINDOW)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(legs=accounts(), eth_axis=st.booleans(), at=st.integers(10**9, 10**14))
def test_a_certified_price_is_healthy_onward(legs: tuple[Leg, ...], eth_axis: bool,
                                            at: int) -> None:
    if legs:
        assert_certified_onward(_curve(legs, eth_axis), at, CHECKED_UNITS)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(legs=accounts(), eth_axis=st.booleans(), low=st.integers(10**9, 10**14),
       width=st.integers(0, CHECKED_UNITS))
def test_an_interval_proven_healthy_is_healthy(legs: tuple[Leg, ...], eth_axis: bool, low: int,
                                               width: int) -> None:
    if legs:
        assert_interval_proof_sound(_curve(legs, eth_axis), low, low + width)


def test_a_short_on_the_eth_axis_saws() -> None:
    """Found by a random search: USDC and stETH collateral against WBTC and WETH debt on the
    ETH axis (USDC and WBTC move, as `price * ref // x`). Liquidatable 2 units below the
    price the bisection found (16455763752878): a rising price meets that crossing first."""
    legs = (Leg(USDC, 10**6, 2051649171780, 0, 8_500, 10_500),
            Leg(STETH, 10**18, 2665411371652094, 0, 7_500, 10_500),
            Leg(WBTC, 10**8, 0, 2168558695, 7_000, 10_500),
            Leg(WETH, 10**18, 0, 2691643310124690944, 8_250, 10_500))
    curve = _curve(legs)
    assert curve.healthy(curve.price_now)
    assert curve.healthy(16455763752878) and not curve.healthy(16455763752876)
    direction, x = liquidation.find_boundary(curve)
    assert direction is Direction.UP and x is not None and x < 16455763752876
    assert all(curve.healthy(p) for p in range(x - WINDOW, x + 1))
    assert not curve.healthy(x + 1)
