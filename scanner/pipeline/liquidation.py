"""Exact liquidation price of one Aave position on one price axis.

Moving the axis to price x (8 dec) sets every member's price to `price_now * x // ref_now`
(integer floor, as a scaled oracle would). The liquidation price is a boundary of the
integer health-factor mirror (`aave_math`), found by bisection -- never the closed form,
which ignores the truncated average LT of v3.0-3.4 and is off by up to several percent:

* DOWN (net long the axis): the smallest x with HF(x) >= 1e18, so HF(x-1) < 1e18.
* UP (net short the axis):  the largest x with HF(x) >= 1e18, so HF(x+1) < 1e18.

Direction and existence come from evaluating the mirror at x = 1 and x = X_HIGH (far beyond
any real price); the closed form only seeds the bisection bracket, which is verified.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from scanner.domain import (
    HEALTH_FACTOR_ONE_WAD,
    WAD,
    AaveAccount,
    AaveMarketState,
    Address,
    Axis,
    Direction,
    PositionResult,
    PositionStatus,
)
from scanner.pipeline.aave_liquidation_call import (
    LiquidationCallOutcome,
    LiquidationRule,
    call_prices,
    liquidation_call,
)
from scanner.pipeline.aave_math import (
    AccountLeg,
    AccountTotals,
    HealthArithmetic,
    account_legs,
    arithmetic_for_revision,
    emode_price_source,
    leg_price_8dec,
    oracle_prices_8dec,
    totals_for_legs,
)
from scanner.pipeline.crossing import (
    first_bisect,
    highest_unhealthy_below,
    lowest_unhealthy_above,
)

# The axis moves within [now / SENSITIVITY_RANGE, now * SENSITIVITY_RANGE]. A position that only
# a move beyond that range (a 99% crash or a 100x rally) could liquidate is NOT_SENSITIVE: for
# hedged positions (eMode loops: LST collateral against WETH debt) integer rounding at prices
# near zero would otherwise produce meaningless "liquidation prices" of a few oracle units.
SENSITIVITY_RANGE = 100
PERCENT = 10_000  # bps in one


@dataclass(frozen=True)
class _Position:
    """An account resolved against a market and an axis: HF as a function of x."""

    legs: tuple[AccountLeg, ...]
    arithmetic: HealthArithmetic
    prices_now_8dec: dict[Address, int]
    axis_members: frozenset[Address]
    ref_now_8dec: int
    rule: LiquidationRule
    emode_price_source: Address | None = None

    def prices_at(self, x_8dec: int) -> dict[Address, int]:
        prices = dict(self.prices_now_8dec)
        for asset in self.axis_members & prices.keys():
            prices[asset] = prices[asset] * x_8dec // self.ref_now_8dec
        return prices

    def totals(self, x_8dec: int) -> AccountTotals:
        return totals_for_legs(self.legs, self.prices_at(x_8dec), self.arithmetic)

    def health_factor_wad(self, x_8dec: int) -> int:
        return self.totals(x_8dec).health_factor_wad

    def healthy(self, x_8dec: int) -> bool:
        return self.health_factor_wad(x_8dec) >= HEALTH_FACTOR_ONE_WAD

    def avg_lt_bps(self, x_8dec: int) -> int:
        return self.totals(x_8dec).avg_lt_bps

    @property
    def can_dip(self) -> bool:
        """Only a floored average LT over collateral that mixes thresholds across the axis
        (some legs move with it, some do not) makes HF non-monotone in the axis price."""
        if self.arithmetic in (HealthArithmetic.V3_5, HealthArithmetic.V3_6):
            return False
        lts = {(leg.price_asset in self.axis_members, leg.lt_bps)
               for leg in self.legs if leg.collateral_raw}
        return {moves for moves, _ in lts} == {True, False} and len({lt for _, lt in lts}) > 1

    def surely_healthy(self, x_8dec: int) -> bool:
        """HF >= 1 by the floor-free bound of crossing.py; always true without flooring."""
        if not self.can_dip:
            return True  # HF is monotone: no dips to look for
        t = self.totals(x_8dec)
        if t.debt_8dec == 0:
            return True
        margin = (t.weighted_collateral - t.collateral_8dec - PERCENT) * WAD
        return margin >= PERCENT * t.debt_8dec * (WAD + 1)


def _resolve(account: AaveAccount, market: AaveMarketState, axis: Axis) -> _Position:
    arithmetic = arithmetic_for_revision(market.pool_revision, market.allow_unreviewed_revision)
    legs = account_legs(account, market, arithmetic)
    # Only the prices this account's legs read: keeps each bisection step small.
    source = emode_price_source(account, market, arithmetic)
    needed = {leg.asset for leg in legs} | {leg.price_asset for leg in legs} | {source}
    prices = {a: p for a, p in oracle_prices_8dec(market).items() if a in needed}
    return _Position(
        legs=legs,
        arithmetic=arithmetic,
        prices_now_8dec=prices,
        axis_members=axis.members,
        ref_now_8dec=axis.reference_price_8dec,
        rule=LiquidationRule.for_revision(market.pool_revision),
        emode_price_source=source,
    )


# --- closed form (tests and benchmarks only) --------------------------------------------


def _closed_form_sums(position: _Position) -> tuple[Fraction, Fraction, Fraction, Fraction]:
    """(C_fix, C_G, D_fix, D_G) in base units, collateral weighted by LT, at current prices."""
    c_fix = c_axis = d_fix = d_axis = Fraction(0)
    for leg in position.legs:
        price = Fraction(leg_price_8dec(leg, position.prices_now_8dec))
        moves = leg.price_asset in position.axis_members
        weighted = Fraction(leg.collateral_raw * leg.lt_bps, leg.unit * 10_000) * price
        debt = Fraction(leg.debt_raw, leg.unit) * price
        if moves:
            c_axis, d_axis = c_axis + weighted, d_axis + debt
        else:
            c_fix, d_fix = c_fix + weighted, d_fix + debt
    return c_fix, c_axis, d_fix, d_axis


def _closed_form(position: _Position) -> int | None:
    c_fix, c_axis, d_fix, d_axis = _closed_form_sums(position)
    if c_axis == d_axis:
        return None
    scale = (d_fix - c_fix) / (c_axis - d_axis)
    if scale <= 0:
        return None
    return int(scale * position.ref_now_8dec)


def closed_form_liquidation_price(
    account: AaveAccount, market: AaveMarketState, axis: Axis
) -> int | None:
    """s* = (D_fix - C_fix) / (C_G - D_G) times the reference price, floored (8 dec).

    Exact-LT linear model with no rounding: for comparison in tests and benchmarks only.
    None when the axis cannot liquidate the position (s* <= 0 or C_G == D_G).
    """
    return _closed_form(_resolve(account, market, axis))


# --- the exact boundary ------------------------------------------------------------------


def _bracket(position: _Position, lo: int, hi: int, want_healthy_at_hi: bool) -> tuple[int, int]:
    """Narrow [lo, hi] around the closed form when that still brackets the boundary."""
    guess = _closed_form(position)
    if guess is None:
        return lo, hi
    near_lo, near_hi = max(lo, guess * 9 // 10), min(hi, guess * 11 // 10 + 1)
    brackets = (
        near_lo < near_hi
        and position.healthy(near_lo) != want_healthy_at_hi
        and position.healthy(near_hi) == want_healthy_at_hi
    )
    return (near_lo, near_hi) if brackets else (lo, hi)


def _down_boundary(position: _Position, lo: int, hi: int) -> int:
    """Smallest healthy x in (lo, hi]: HF(lo) < 1 <= HF(hi)."""
    lo, hi = _bracket(position, lo, hi, want_healthy_at_hi=True)
    return first_bisect(lo, hi, position.healthy)


def _up_boundary(position: _Position, lo: int, hi: int) -> int:
    """Largest healthy x in [lo, hi): HF(lo) >= 1 > HF(hi)."""
    lo, hi = _bracket(position, lo, hi, want_healthy_at_hi=False)
    return first_bisect(lo, hi, lambda x: not position.healthy(x)) - 1


def _first_down_crossing(position: _Position, x_low: int, now: int) -> int:
    """Smallest x with HF >= 1 on all of [x, now]: where a falling price first liquidates."""
    boundary = _down_boundary(position, x_low, now)
    dip = highest_unhealthy_below(position, boundary, now)
    return boundary if dip is None else dip + 1


def _first_up_crossing(position: _Position, now: int, x_high: int) -> int:
    """Largest x with HF >= 1 on all of [now, x]: where a rising price first liquidates."""
    boundary = _up_boundary(position, now, x_high)
    dip = lowest_unhealthy_above(position, now, boundary + 1)
    return boundary if dip is None else dip - 1


def _find_boundary(position: _Position) -> tuple[Direction | None, int | None]:
    """Direction and liquidation price; (None, None) when no axis price changes health."""
    now = position.ref_now_8dec
    x_low, x_high = max(1, now // SENSITIVITY_RANGE), now * SENSITIVITY_RANGE
    low_ok, high_ok = position.healthy(x_low), position.healthy(x_high)
    if low_ok and high_ok:
        return None, None  # hedged or no exposure: healthy across the whole range
    healthy_now = position.healthy(now)
    if not low_ok and high_ok:
        if healthy_now:
            return Direction.DOWN, _first_down_crossing(position, x_low, now)
        return Direction.DOWN, _down_boundary(position, x_low, x_high)
    if low_ok and not high_ok:
        if healthy_now:
            return Direction.UP, _first_up_crossing(position, now, x_high)
        return Direction.UP, _up_boundary(position, x_low, x_high)
    if not healthy_now:
        return None, None  # unhealthy at both extremes and now: no price rescues it
    # Unhealthy at both extremes but healthy now (only possible through rounding
    # non-monotonicity): report the nearer of the two boundaries.
    down = _first_down_crossing(position, x_low, now)
    up = _first_up_crossing(position, now, x_high)
    if now * now <= down * up:  # now/down <= up/now: the fall is the smaller move
        return Direction.DOWN, down
    return Direction.UP, up


# --- what a liquidator could take -------------------------------------------------------


def _largest(position: _Position, prices: dict[Address, int], collateral: bool
             ) -> AccountLeg | None:
    """The leg of greatest value on one side (ties: lowest reserve id, the legs' order)."""
    best, best_value = None, 0
    for leg in position.legs:
        amount = leg.collateral_raw if collateral else leg.debt_raw
        value = amount * leg_price_8dec(leg, prices) // leg.unit
        if amount and (best is None or value > best_value):
            best, best_value = leg, value
    return best


def _liquidation_call_at(position: _Position, x_8dec: int) -> LiquidationCallOutcome | None:
    prices = position.prices_at(x_8dec)
    collateral = _largest(position, prices, collateral=True)
    debt = _largest(position, prices, collateral=False)
    if collateral is None or debt is None:
        return None
    totals = totals_for_legs(position.legs, prices, position.arithmetic)
    priced = call_prices(collateral, debt, prices, position.emode_price_source)
    return liquidation_call(collateral, debt, priced, totals, position.rule,
                            collateral.protocol_fee_bps)


def liquidation_call_at(
    account: AaveAccount, market: AaveMarketState, axis: Axis, x_8dec: int
) -> LiquidationCallOutcome | None:
    """What liquidationCall(largest collateral, largest debt, max) does at axis price x."""
    return _liquidation_call_at(_resolve(account, market, axis), x_8dec)


def _seizable_8dec(position: _Position, x_8dec: int) -> int:
    """Collateral (liquidator's share and protocol fee) that leaves the position in ONE
    liquidationCall of its largest debt against its largest collateral at axis price x --
    the first call a liquidator makes; 0 when that call would revert for dust."""
    outcome = _liquidation_call_at(position, x_8dec)
    if outcome is None:
        return 0
    prices = position.prices_at(x_8dec)
    (leg,) = [leg for leg in position.legs if leg.asset == outcome.collateral_asset]
    return outcome.collateral_seized_raw * leg_price_8dec(leg, prices) // leg.unit


def _axis_collateral_8dec(position: _Position) -> int:
    """Collateral whose price moves with the axis (by the price that values it)."""
    total = 0
    for leg in position.legs:
        if leg.collateral_raw and leg.price_asset in position.axis_members:
            price = leg_price_8dec(leg, position.prices_now_8dec)
            total += leg.collateral_raw * price // leg.unit
    return total


def liquidation_result(
    account: AaveAccount, market: AaveMarketState, axis: Axis, protocol: str
) -> PositionResult | None:
    """Liquidation level of `account` on `axis`; None when the account has no debt.

    Status:
      LIQUIDATABLE_NOW: HF < 1 at current prices. Direction and price then describe the
        boundary on the other side: the axis price at which the position becomes healthy
        again (DOWN: it is healthy at and above that price; UP: at and below). Both None when
        no axis price makes it healthy. Seizable: one liquidationCall at current prices.
      NOT_SENSITIVE: healthy at every axis price in [now / 100, now * 100] (hedged, or no
        exposure to the axis): direction and price None.
      AT_RISK: healthy now; the exact boundary above; seizable: one liquidationCall one
        oracle unit past it (see `aave_liquidation_call` for each revision's rule).
    """
    if all(reserve.debt_raw == 0 for reserve in account.reserves):
        return None
    position = _resolve(account, market, axis)
    now = totals_for_legs(position.legs, position.prices_now_8dec, position.arithmetic)
    direction, price_8dec = _find_boundary(position)
    if now.health_factor_wad < HEALTH_FACTOR_ONE_WAD:
        status = PositionStatus.LIQUIDATABLE_NOW
        seizable = _seizable_8dec(position, axis.reference_price_8dec)
    elif price_8dec is None:
        status, seizable = PositionStatus.NOT_SENSITIVE, 0
    else:
        status = PositionStatus.AT_RISK
        # one oracle unit past x: the first price at which the pool accepts a liquidation
        past = price_8dec - 1 if direction is Direction.DOWN else price_8dec + 1
        seizable = _seizable_8dec(position, past)
    return PositionResult(
        market_key=market.market_key,
        protocol=protocol,
        account=account.account,
        axis=axis.name,
        status=status,
        direction=direction,
        liquidation_price_8dec=price_8dec,
        axis_price_now_8dec=axis.reference_price_8dec,
        health_factor_wad=now.health_factor_wad,
        collateral_usd_8dec=now.collateral_8dec,
        debt_usd_8dec=now.debt_8dec,
        axis_collateral_usd_8dec=_axis_collateral_8dec(position),
        seizable_usd_8dec=seizable,
        emode_category=account.emode_category,
    )
