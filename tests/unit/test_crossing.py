"""The seeded dip search of crossing.py equals the plain one on random not-monotone curves.

The seed (a secant of the curve's `dip_margin`, then a gallop) only narrows a bracket whose
ends were evaluated, so the answer is a function of the curve alone: the same as the plain
bisection's (a curve without `dip_margin`), and the same under any other seed (a margin of
the right sign but the wrong size).
"""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.domain import Axis
from scanner.pipeline.crossing import (
    _bound_edge,
    _inverse_secant,
    _secant,
    first_bisect,
    highest_unhealthy_below,
    lowest_unhealthy_above,
)
from scanner.pipeline.liquidation import SENSITIVITY_RANGE
from scanner.protocols.aave_v3.rule import AaveCurve, AavePosition
from scanner.protocols.aave_v3.state import AaveAccount
from tests.unit.test_liquidation import BTC_AXIS, DAI, WBTC, WETH, make_account, make_market

Skew = tuple[int, int] | None
OWN = (1, 0)  # the curve's own margin, unchanged


class Probe:
    """The part of an Aave curve the dip search reads, counting the distinct x it asks.
    `skew` None: no dip_margin (the plain search); else dip_margin is the curve's margin
    times skew[0] plus skew[1] of its sign ((1, 0): the curve's own; else a wrong seed of
    the right sign)."""

    def __init__(self, curve: AaveCurve, skew: Skew) -> None:
        self.curve, self.skew, self.asked = curve, skew, set[int]()
        if skew is not None:
            self.dip_margin = self._skewed_margin

    def _ask(self, x: int) -> None:
        self.asked.add(x)

    def healthy(self, x: int) -> bool:
        self._ask(x)
        return self.curve.healthy(x)

    def piece(self, x: int) -> int:
        self._ask(x)
        return self.curve.piece(x)

    def surely_healthy(self, x: int) -> bool:
        self._ask(x)
        return self.curve.surely_healthy(x)

    def _skewed_margin(self, x: int) -> int:
        self._ask(x)
        margin = self.curve.dip_margin(x)
        assert self.skew is not None
        factor, offset = self.skew
        return margin * factor + (offset if margin >= 0 else -offset)


def _dip_search(curve: AaveCurve, skew: Skew) -> tuple[int | None, int | None, int]:
    """Both sides' dip searches as liquidation.py runs them (the boundary by a plain
    bisection), and how many distinct x the searches asked."""
    now = curve.price_now
    x_low, x_high = max(1, now // SENSITIVITY_RANGE), now * SENSITIVITY_RANGE
    probe = Probe(curve, skew)
    below = above = None
    if curve.healthy(now) and not curve.healthy(x_low):
        boundary = first_bisect(x_low, now, curve.healthy)
        below = highest_unhealthy_below(probe, boundary, now)  # type: ignore[arg-type]
    if curve.healthy(now) and not curve.healthy(x_high):
        boundary = first_bisect(now, x_high, lambda x: not curve.healthy(x))
        above = lowest_unhealthy_above(probe, now, boundary)  # type: ignore[arg-type]
    return below, above, len(probe.asked)


@st.composite
def not_monotone(draw: st.DrawFn) -> AaveAccount:
    """WETH + WBTC collateral (LT 82.5% / 75%) against DAI, some also borrowing WBTC (HF
    then falls as BTC rises): on the BTC axis the floored average LT dips on either side."""
    weth_raw = draw(st.integers(10**17, 10**20))
    wbtc_raw = draw(st.integers(10**5, 10**9))
    collateral_usd = weth_raw * 2000 // 10**18 + wbtc_raw * 60000 // 10**8
    debt_usd = collateral_usd * draw(st.integers(30, 78)) // 100
    btc_debt_raw = draw(st.sampled_from([0, 0, wbtc_raw * 9 // 10, wbtc_raw * 11 // 10]))
    return make_account((WETH, weth_raw, 0, True), (WBTC, wbtc_raw, btc_debt_raw, True),
                        (DAI, 0, max(debt_usd, 1) * 10**18, False))


def _curve(account: AaveAccount, axis: Axis = BTC_AXIS) -> AaveCurve:
    return AavePosition(account, make_market(1)).curve(axis)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(account=not_monotone(),
       skew=st.tuples(st.integers(1, 10**6), st.sampled_from([0, 1, 10**30, 10**40])))
def test_seeded_search_equals_the_plain_one(account: AaveAccount, skew: tuple[int, int]) -> None:
    plain = _dip_search(_curve(account), None)
    assert _dip_search(_curve(account), OWN)[:2] == plain[:2]
    assert _dip_search(_curve(account), skew)[:2] == plain[:2]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(account=not_monotone(),
       skew=st.tuples(st.integers(1, 10**6), st.sampled_from([0, 1, 10**30, 10**40])))
def test_the_bound_edge_is_a_sign_change(account: AaveAccount, skew: tuple[int, int]) -> None:
    # The edge of the region where the bound fails, on both sides of today, under the own
    # seed and a wrong one: a point where the bound's verdict changes. (Not always the plain
    # bisection's point: per-leg floors make the margin's sign flicker over a few thousand
    # units of x around its zero, and the two searches may settle on different flips.)
    curve = _curve(account)
    now = curve.price_now
    for lo, hi in ((max(1, now // SENSITIVITY_RANGE), now), (now, now * SENSITIVITY_RANGE)):
        sure_lo, sure_hi = curve.surely_healthy(lo), curve.surely_healthy(hi)
        if sure_lo == sure_hi:
            continue

        def is_right(x: int, sure_hi: bool = sure_hi) -> bool:
            return curve.surely_healthy(x) == sure_hi

        plain = first_bisect(lo, hi, is_right)
        for margin in (OWN, skew):
            edge = _bound_edge(Probe(curve, margin), lo, hi, is_right)  # type: ignore[arg-type]
            assert lo < edge <= hi and is_right(edge) and not is_right(edge - 1)
            assert abs(edge - plain) <= max(10**6, abs(plain) // 10**6)


def _counts(account: AaveAccount) -> Callable[[Skew], int]:
    return lambda skew: _dip_search(_curve(account), skew)[2]


def test_the_seed_saves_evaluations() -> None:
    # The seed is used (a renamed dip_margin would silently fall back to the plain search):
    # this long's bound fails on a short stretch above its boundary, far below today's price.
    account = make_account(("0xWETH", 5 * 10**18, 0, True), ("0xWBTC", 2 * 10**7, 0, True),
                           ("0xDAI", 0, 15_000 * 10**18, False))
    curve = _curve(account)
    assert curve.can_dip and not curve.surely_healthy(first_bisect(
        curve.price_now // SENSITIVITY_RANGE, curve.price_now, curve.healthy) + 1)
    counts = _counts(account)
    assert counts(None) >= 30  # the plain bisection of [boundary, now]
    assert counts(OWN) <= counts(None) // 2


@given(zero=st.integers(10**9, 10**14), slope=st.integers(10**18, 10**30),
       below=st.integers(2, 10**5), above=st.integers(2, 10**5))
def test_the_inverse_secant_solves_a_margin_affine_in_one_over_x(zero: int, slope: int,
                                                                  below: int, above: int) -> None:
    # m(x) = slope / x - slope / zero, floored (Aave v2's ETH axis: moving prices p * ref // x):
    # the secant in 1 / x through any bracket lands on the zero, the straight one does not
    def margin(x: int) -> int:
        return slope // x - slope // zero

    lo, hi = max(1, zero // below), zero * above
    seed = _inverse_secant(lo, hi, margin(lo), margin(hi))
    assert abs(seed - zero) <= max(2, zero * zero // slope * 4)
    if below * above > 100:
        assert abs(_secant(lo, hi, margin(lo), margin(hi)) - zero) > zero // 100
