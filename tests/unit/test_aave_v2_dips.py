"""Aave v2's searches past a floored average LT are seeded, and still exact.

A v2 account whose collateral mixes LTs across the axis has a health factor that jumps where
the floored average LT steps. Its boundary is often such a jump, and its dip search splits
[boundary, today] into stretches of one average. Each of those edges was a bisection of a
wide bracket (~30 evaluations); the curve now seeds them (rule.py's `piece_edge`,
`piece_boundary`; axis_monotone's `average_seed` at a step), and on the ETH axis, where the
moving prices are `p * ref // x`, the edge searches take their secants in 1 / x.

A seed only narrows a bracket whose ends are evaluated: the answers equal the unseeded
search's, under the curve's own seeds and under wrong ones.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.domain import WAD, Direction
from scanner.pipeline.liquidation import find_boundary
from scanner.pipeline.monotone import boundary_seed
from scanner.protocols.aave_v2.generic_logic import Leg
from scanner.protocols.aave_v2.rule import V2Curve
from tests.unit.test_solver_reference import assert_any_seed_same, assert_same

WETH, WBTC, USDC, DAI = ("0x" + d * 20 for d in ("11", "33", "22", "44"))
PRICES = {WETH: WAD, WBTC: 20 * WAD, USDC: 333_333_333_333_333, DAI: 333_333_333_333_333}
ETH_USD_8DEC = 300_000_000_000
BTC_USD_8DEC = 6_000_000_000_000


def _legs(weth: tuple[int, int], wbtc_raw: int, usdc_debt_raw: int, dai_raw: int
          ) -> tuple[Leg, ...]:
    return (Leg(WETH, 10**18, weth[0], weth[1], 8_250, 10_500),
            Leg(WBTC, 10**8, wbtc_raw, 0, 7_500, 10_650),
            Leg(USDC, 10**6, 0, usdc_debt_raw, 0, 0),
            Leg(DAI, 10**18, dai_raw, 0, 8_000, 10_500))


# An account of the test suite's devnet (seed 7): WETH supplied and borrowed, WBTC and DAI
# collateral, USDC debt. On round 15's code its ETH-axis price cost 65 rule evaluations (its
# boundary is a step of the average). On the BTC axis the boundary seed now lands on a lower
# crossing than round 15's (8 evaluations then, 12 now): the dip search above it crosses
# three stretches, 68 evaluations without the piece seeds.
DEVNET = _legs((2_475_240_668_967_012_302, 1_764_910_221_431_173_723), 8_264_543, 7_545_891_717,
               4_642_679_050_664_072_963_848)


def _curve(legs: tuple[Leg, ...], axis: str) -> V2Curve:
    if axis == "ETH":
        return V2Curve(legs, dict(PRICES), frozenset({WETH}), ETH_USD_8DEC, True, ETH_USD_8DEC)
    return V2Curve(legs, dict(PRICES), frozenset({WBTC}), BTC_USD_8DEC, False, ETH_USD_8DEC)


class _Unseeded:
    """The curve without the dip search's seeds (the plain bisections of before)."""

    HIDDEN = frozenset({"piece_edge", "piece_boundary", "margin_in_inverse_x"})

    def __init__(self, curve: V2Curve) -> None:
        self.curve = curve

    def __getattr__(self, name: str) -> Any:
        if name in self.HIDDEN:
            raise AttributeError(name)
        return getattr(self.curve, name)


class _Misseeded(_Unseeded):
    """The curve with its dip seeds moved by `offset` units (a wrong seed)."""

    HIDDEN = frozenset()

    def __init__(self, curve: V2Curve, offset: int) -> None:
        super().__init__(curve)
        self.offset = offset

    def piece_edge(self, level: int, toward: int) -> int | None:
        seed = self.curve.piece_edge(level, toward)
        return None if seed is None else seed + self.offset

    def piece_boundary(self, level: int) -> int | None:
        seed = self.curve.piece_boundary(level)
        return None if seed is None else seed + self.offset


def _solved(legs: tuple[Leg, ...], axis: str, wrap: Any = None
            ) -> tuple[tuple[Direction | None, int | None], int]:
    """find_boundary's answer and the distinct axis prices the rule was evaluated at."""
    curve = _curve(legs, axis)
    answer = find_boundary(curve if wrap is None else wrap(curve))
    return answer, len(curve._memo)


def test_the_devnet_account_is_solved_in_a_few_evaluations() -> None:
    # without the piece seeds: 18 evaluations on ETH (its boundary seed and the secant in
    # 1 / x still count), 68 on BTC (three stretches bisected)
    for axis, seeded_at_most, plain_at_least in (("ETH", 10, 16), ("BTC", 12, 60)):
        seeded, seeded_count = _solved(DEVNET, axis)
        plain, plain_count = _solved(DEVNET, axis, _Unseeded)
        assert seeded == plain and seeded[0] is Direction.DOWN
        assert seeded_count <= seeded_at_most and plain_count >= plain_at_least, axis
        assert_same(partial(_curve, DEVNET, axis))
        assert_any_seed_same(partial(_curve, DEVNET, axis))


def test_a_boundary_at_a_step_of_the_average_is_seeded_at_the_step() -> None:
    # ETH axis: the floored average at today's price (79.63%) gives no solution, and the
    # averages of 77.89% and 77.90% each solve into the other's stretch: the boundary is the
    # step between them, where HF jumps over 1 (the seed was None, then ~1e7 units off)
    curve = _curve(DEVNET, "ETH")
    direction, boundary = find_boundary(curve)
    seed = boundary_seed(_curve(DEVNET, "ETH"))
    assert direction is Direction.DOWN and boundary is not None and seed is not None
    assert abs(seed - boundary) <= 4
    assert curve.piece(boundary) == curve.piece(boundary - 1) + 1  # a step of the average


@st.composite
def mixed_accounts(draw: st.DrawFn) -> tuple[Leg, ...]:
    """WETH, WBTC and DAI collateral of three LTs against USDC (and sometimes WETH) debt of
    30-79% of the collateral's value: on either axis the average mixes moving and fixed LTs."""
    weth_raw = draw(st.integers(10**17, 10**20))
    wbtc_raw = draw(st.integers(10**5, 10**9))
    dai_raw = draw(st.integers(10**20, 10**23))
    collateral_usd = weth_raw * 3_000 // 10**18 + wbtc_raw * 60_000 // 10**8 + dai_raw // 10**18
    debt_usd = max(1, collateral_usd * draw(st.integers(30, 79)) // 100)
    weth_debt_share = draw(st.sampled_from([0, 0, 1, 3]))  # quarters of the debt in WETH
    weth_debt_raw = debt_usd * weth_debt_share * 10**18 // (4 * 3_000)
    usdc_debt_raw = debt_usd * (4 - weth_debt_share) * 10**6 // 4
    return _legs((weth_raw, weth_debt_raw), wbtc_raw, usdc_debt_raw, dai_raw)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(legs=mixed_accounts(), axis=st.sampled_from(["ETH", "BTC"]),
       offset=st.sampled_from([1, -1, 1_000, -10**9, 10**12]))
def test_the_seeded_search_equals_the_plain_one(legs: tuple[Leg, ...], axis: str,
                                                offset: int) -> None:
    plain = _solved(legs, axis, _Unseeded)[0]
    assert _solved(legs, axis)[0] == plain
    assert _solved(legs, axis, lambda curve: _Misseeded(curve, offset))[0] == plain
