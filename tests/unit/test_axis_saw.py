"""The sawn-boundary certificate (scanner/protocols/aave_v3/axis_saw.py; one collateral LT, two
LTs over moving collateral, v3.5+) is sound: where it
proves a price healthy onward, every unit there is healthy by the integer rule itself; where
its interval test proves [p, q] healthy, every unit of it is. And where collateral and debt
both move with the axis, the solver's price is the first crossing met from today, unit by
unit (checked exhaustively over the sawn region)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.domain import Direction
from scanner.pipeline import liquidation
from scanner.protocols.aave_v3.rule import AaveCurve, AavePosition
from scanner.protocols.aave_v3.state import AaveAccount, AaveEMode
from tests.saw_checks import (
    assert_certified_onward,
    assert_interval_proof_sound,
    assert_no_crossing_nearer_today,
    checked_price,
)
from tests.unit.test_liquidation import (
    DAI,
    ETH_AXIS,
    ETH_SOURCE,
    USD,
    USDC,
    WETH,
    WSTETH,
    make_account,
    make_market,
)

# units past a certified price checked one by one
CHECKED_UNITS = 400
MAX_WALK = 200_000  # units walked from the price toward today at most


@st.composite
def both_moving(draw: st.DrawFn) -> AaveAccount:
    """Collateral on the axis (WETH or wstETH, or both: two LTs; and DAI beside them or not)
    against debt partly on it: the sawing kind. In the eMode category or not (v3.0-3.1: its
    price source, so a leg may fall back to its asset's own price where the source's is 0)."""
    collateral = draw(st.sampled_from([WETH, WSTETH]))
    on_axis_debt = draw(st.sampled_from([WETH, WSTETH]))
    supplied = draw(st.integers(10**14, 10**21))
    share = draw(st.integers(1, 95))  # % of the collateral's value borrowed on the axis
    axis_debt = supplied * share // 100
    usdc = draw(st.integers(0, 10**6)) * draw(st.sampled_from([1, 10**3, 10**6]))
    other = WSTETH if collateral == WETH else WETH
    also = draw(st.one_of(st.just(0), st.integers(10**14, 10**21)))  # of the other, supplied
    # DAI collateral (its own LT, fixed on the axis): the average LT moves with x
    dai = draw(st.one_of(st.just(0), st.integers(10**15, 10**24)))
    emode = draw(st.sampled_from([0, 0, EMODE]))
    if also or dai:  # two or three collateral LTs
        legs = {collateral: [supplied, 0], other: [also, 0], DAI: [dai, 0]}
        legs[on_axis_debt][1] = (supplied + also) * share // 100
        return make_account(*((asset, s, d, True) for asset, (s, d) in legs.items() if s or d),
                            (USDC, 0, usdc, False), emode=emode)
    if collateral == on_axis_debt:
        return make_account((collateral, supplied, axis_debt, True), (USDC, 0, usdc, False),
                            emode=emode)
    return make_account((collateral, supplied, 0, True), (on_axis_debt, 0, axis_debt, False),
                        (USDC, 0, usdc, False), emode=emode)


EMODE = 1


def _curve(account: AaveAccount, revision: int) -> AaveCurve:
    """The account on the ETH axis; its eMode category (WETH and wstETH, LT 93%) priced by the
    ETH source on v3.0-3.1, by the reserves' own prices after."""
    if not account.emode_category:
        return AavePosition(account, make_market(revision)).curve(ETH_AXIS)
    if revision < 5:
        category = AaveEMode(EMODE, 9_000, 9_300, 10_100, "ETH", ETH_SOURCE, 2_000 * USD)
    else:
        category = AaveEMode(EMODE, 9_000, 9_300, 10_100, "ETH",
                             collateral_bitmap=(1 << 0) | (1 << 4))  # WETH, wstETH
    market = make_market(revision, emodes={EMODE: category}, emode_reserves=EMODE)
    return AavePosition(account, market).curve(ETH_AXIS)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(account=both_moving(), revision=st.sampled_from([1, 5, 9]),
       at=st.integers(10**8, 10**13))
def test_a_certified_price_is_healthy_onward(account: AaveAccount, revision: int,
                                            at: int) -> None:
    assert_certified_onward(_curve(account, revision), at, CHECKED_UNITS)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(account=both_moving(), revision=st.sampled_from([1, 5, 9]),
       low=st.integers(10**8, 10**13), width=st.integers(0, CHECKED_UNITS))
def test_an_interval_proven_healthy_is_healthy(account: AaveAccount, revision: int, low: int,
                                               width: int) -> None:
    assert_interval_proof_sound(_curve(account, revision), low, low + width)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(account=both_moving(), revision=st.sampled_from([1, 5, 9]), data=st.data())
def test_a_long_interval_proven_healthy_near_the_price_is_healthy(
        account: AaveAccount, revision: int, data: st.DataObject) -> None:
    """Long intervals next to the liquidation price, where proofs are hardest: every unit
    of one proven healthy is."""
    curve = _curve(account, revision)
    direction, x = liquidation.find_boundary(curve)
    if x is None:
        return
    step = 1 if direction is Direction.DOWN else -1
    start = x + step * data.draw(st.integers(0, LONG_UNITS))
    end = start + step * data.draw(st.integers(0, LONG_UNITS))
    assert_interval_proof_sound(curve, min(start, end), max(start, end))


LONG_UNITS = 20_000


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(account=both_moving(), revision=st.sampled_from([1, 5, 9]))
def test_the_price_is_the_first_crossing_from_today(account: AaveAccount,
                                                    revision: int) -> None:
    """Every unit between the price and the certificate's edge (or today) is checked."""
    curve = _curve(account, revision)
    found = checked_price(curve)
    if found is None:
        return
    x, step = found
    now, down = curve.price_now, step == 1
    y = x
    for _ in range(MAX_WALK):  # toward today, until certified (or today)
        if (y + step - now) * step > 0:
            break
        y += step
        assert curve.healthy(y), f"liquidatable at {y}, between the price {x} and today"
        margin = curve.saw_margin(y, down)
        if margin is None or margin >= 0:
            break


WINDOW = 2_000  # units on today's side of the price, checked without the certificate


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(account=both_moving(), revision=st.sampled_from([1, 5, 9]))
def test_no_crossing_just_nearer_today(account: AaveAccount, revision: int) -> None:
    """A window of units on today's side of the price is healthy, checked by the rule alone
    (the certificate's own claims are not trusted here)."""
    assert_no_crossing_nearer_today(_curve(account, revision), WINDOW)
