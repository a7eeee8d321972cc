"""The per-market leg table (aave_v3/leg_table.py) against the generic resolution.

A curve built from the table's rows (`rule._row_curve`) must be the curve `account_legs`
builds (`rule._generic_curve`): the same legs and prices when read, the same compiled sums,
the same account data, seizable amount, proofs and seeds at every x, the same result -- and
the same error, raised by the same call, where the generic resolution raises. Random markets
of every arithmetic: eMode categories (bitmaps, v3.0 price sources, a zero-priced source left
out of the oracle), isolated reserves, reserve LT 0, accounts in an unlisted category or
holding an unlisted reserve.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.domain import Axis, Position
from scanner.pipeline.liquidation import liquidation_result
from scanner.protocols.aave_v3 import rule
from scanner.protocols.aave_v3.rule import AaveCurve, AavePosition
from scanner.protocols.aave_v3.state import (
    AaveAccount,
    AaveEMode,
    AaveMarketState,
    AaveReserve,
    AaveUserReserve,
)

USD = 10**8
WETH, WSTETH, WBTC, USDC, DAI, SOURCE = "0xWETH", "0xWST", "0xWBTC", "0xUSDC", "0xDAI", "0xSRC"
ASSETS = [(WETH, 18, 2_000 * USD), (WBTC, 8, 60_000 * USD), (USDC, 6, 99_990_000),
          (DAI, 18, 100_010_000), (WSTETH, 18, 2_300 * USD)]
AXES = [Axis("ETH", frozenset({WETH, WSTETH, SOURCE}), WETH, 2_000 * USD),
        Axis("BTC", frozenset({WBTC}), WBTC, 60_000 * USD)]


@st.composite
def markets(draw: st.DrawFn) -> AaveMarketState:
    revision = draw(st.sampled_from([1, 4, 5, 7, 9, 10, 11]))
    order = draw(st.permutations(range(len(ASSETS))))  # reserve ids not in listing order
    reserves = {}
    for reserve_id, (asset, decimals, price) in zip(order, ASSETS, strict=True):
        lt = draw(st.sampled_from([0, 7_500, 8_250, 8_600]))
        reserves[asset] = AaveReserve(
            asset, asset[2:], reserve_id, decimals, max(0, lt - 500), lt,
            draw(st.sampled_from([10_500, 11_000])), draw(st.sampled_from([0, 1])), price,
            debt_ceiling=draw(st.sampled_from([0, 10_000_000])),
            protocol_fee_bps=draw(st.sampled_from([0, 1_000])))
    emodes = {}
    for category in draw(st.lists(st.sampled_from([1, 2]), unique=True, max_size=2)):
        bitmap = None if revision < 5 else draw(st.sampled_from([None, 0b10001, 0b11111]))
        source_price = draw(st.sampled_from([0, 1_990 * USD, 2_010 * USD]))
        emodes[category] = AaveEMode(category, 9_000, 9_300, 10_200, "E", SOURCE,
                                     source_price, bitmap)
    return AaveMarketState("test", revision, USD, 1, 1, reserves, emodes)


@st.composite
def accounts(draw: st.DrawFn) -> AaveAccount:
    held = draw(st.lists(st.sampled_from([a for a, _, _ in ASSETS] + ["0xNOT"]), min_size=1,
                         max_size=4, unique=True))
    legs = []
    for asset in held:
        unit = 10 ** dict((a, d) for a, d, _ in ASSETS).get(asset, 18)
        supplied = draw(st.integers(0, 10**5)) * unit // draw(st.sampled_from([1, 7, 1_000]))
        debt = draw(st.integers(0, 10**5)) * unit // draw(st.sampled_from([1, 3, 1_000]))
        legs.append(AaveUserReserve(asset, supplied, debt, draw(st.booleans())))
    category = draw(st.sampled_from([0, 0, 1, 2, 3]))
    return AaveAccount("0xA", category, tuple(legs), 0, 0, 0)


def outcome(call: Callable[[], Any]) -> Any:
    """A call's value, or its error's type and message."""
    try:
        return call()
    except Exception as exc:  # the error itself is what is compared
        return type(exc).__name__, str(exc)


def generic(account: AaveAccount, market: AaveMarketState, axis: Axis) -> AaveCurve:
    return rule._generic_curve(account, market, axis, rule._market_constants(market))


def sums_fields(curve: AaveCurve) -> Any:
    sums = curve._sums
    if sums is None:
        return None
    # compiled (scanner/native.py), a class keeps its attribute names in __mypyc_attrs__
    names = getattr(type(sums), "__slots__", None) or type(sums).__mypyc_attrs__
    return tuple(getattr(sums, name) for name in sorted(names))


def figures(curve: AaveCurve) -> list[Any]:
    now = curve.price_now
    xs = [1, now // 100, now // 3, now - 1, now, now + 1, now * 3, now * 100]
    return [outcome(lambda: curve.legs), outcome(lambda: curve.prices_now_8dec),
            sums_fields(curve), curve._collateral_lts, curve.can_dip,
            outcome(curve.monotone_sign), outcome(curve.boundary_seed),
            outcome(curve.axis_collateral_usd_8dec)] + [
        (outcome(lambda x=x: curve.totals(x)), outcome(lambda x=x: curve.seizable_usd_8dec(x)),
         outcome(lambda x=x: curve.liquidation_call_at(x)), outcome(lambda x=x: curve.piece(x)))
        for x in xs]


@dataclass(init=False, unsafe_hash=True)  # as AavePosition: its own __init__
class GenericPosition(AavePosition):
    """An Aave position whose curve is always resolved leg by leg."""

    def curve(self, axis: Axis) -> AaveCurve:
        return generic(self.account, self.market, axis)


def result(state: AavePosition, axis: Axis) -> Any:
    position = Position("test", "aave-v3", "0xPool", "0xA", state, state.account.emode_category)
    return outcome(lambda: liquidation_result(position, axis))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(market=markets(), account=accounts(), axis=st.sampled_from(AXES))
def test_row_curve_equals_the_generic_curve(market: AaveMarketState, account: AaveAccount,
                                            axis: Axis) -> None:
    fast = outcome(lambda: rule.aave_curve(account, market, axis))
    slow = outcome(lambda: generic(account, market, axis))
    if not isinstance(slow, AaveCurve):  # the generic resolution raises: so does the table's
        assert fast == slow
        return
    assert isinstance(fast, AaveCurve)
    assert figures(fast) == figures(slow)
    assert result(AavePosition(account, market), axis) == result(
        GenericPosition(account, market), axis)


def test_the_table_is_used_and_falls_back() -> None:
    # a listed account gets a row curve (its legs made only when read); an unlisted reserve
    # or an unlisted category leaves it to the generic resolution, which raises
    reserves = {asset: AaveReserve(asset, asset[2:], i, d, 7_000, 7_500, 10_500, 0, price)
                for i, (asset, d, price) in enumerate(ASSETS)}
    market = AaveMarketState("test", 9, USD, 1, 1, reserves, {})
    axis = AXES[0]
    ok = AaveAccount("0xA", 0, (AaveUserReserve(WETH, 10**18, 10**17, True),), 0, 0, 0)
    curve = rule.aave_curve(ok, market, axis)
    assert curve._rows is not None and curve._legs is None
    assert curve.legs == generic(ok, market, axis).legs
    for bad in (AaveAccount("0xA", 0, (AaveUserReserve("0xNOT", 1, 1, True),), 0, 0, 0),
                AaveAccount("0xA", 7, ok.reserves, 0, 0, 0)):
        assert outcome(lambda bad=bad: rule.aave_curve(bad, market, axis)) == outcome(
            lambda bad=bad: generic(bad, market, axis))
        assert outcome(lambda bad=bad: rule.aave_curve(bad, market, axis))[0] == (
            "InconsistentDataError")
