"""Exact liquidation price of one position on one price axis, for any protocol.

The position's protocol supplies a `HealthCurve` (scanner.domain): its own integer rule as a
function of the axis price x in its oracle's own terms. The liquidation price is a boundary
of that rule, found by bisection -- never a closed form, which ignores the protocol's
rounding (Aave v3.0-3.4's truncated average LT is off by up to several percent):

* DOWN (net long the axis): the smallest x with healthy(x), so not healthy(x-1).
* UP (net short the axis):  the largest x with healthy(x), so not healthy(x+1).

Direction and existence come from evaluating the rule at x = now/100 and x = now*100; the
curve's closed form, moved by one secant step, only seeds the search: galloping evaluations
around it bracket the boundary, and the bracket is bisected (solve cost: ~10 evaluations
instead of ~35). Where the rule is
not monotone (crossing.py) the price is the FIRST crossing met moving away from today's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from scanner.domain import (
    HEALTH_FACTOR_ONE_WAD,
    Axis,
    Direction,
    HealthCurve,
    Position,
    PositionResult,
    PositionStatus,
)
from scanner.pipeline.crossing import (
    first_bisect,
    gallop,
    highest_unhealthy_below,
    lowest_unhealthy_above,
)
from scanner.pipeline.monotone import boundary_seed, monotone_boundary, monotone_sign

# The axis moves within [now / SENSITIVITY_RANGE, now * SENSITIVITY_RANGE]. A position that only
# a move beyond that range (a 99% crash or a 100x rally) could liquidate is NOT_SENSITIVE: for
# hedged positions (eMode loops: LST collateral against WETH debt) integer rounding at prices
# near zero would otherwise produce meaningless "liquidation prices" of a few oracle units.
SENSITIVITY_RANGE: Final = 100


# The secant step's span, as a right shift of the seed: small enough that the health factor is
# linear across it, large enough that its integer rounding does not matter.
SECANT_SPAN_SHIFT: Final = 20


def _secant_seed(curve: HealthCurve, guess: int, lo: int, hi: int) -> int:
    """The closed form moved by one secant step on the integer health factor (which is linear
    in x between rounding-floor changes), inside (lo, hi). Only a seed: never trusted."""
    x0 = min(max(guess, lo + 1), hi - 1)
    span = max(1, x0 >> SECANT_SPAN_SHIFT)
    x1 = x0 + span if x0 + span < hi else x0 - span
    h0 = curve.value(x0).health_factor_wad
    h1 = curve.value(x1).health_factor_wad
    if h1 == h0:
        return x0
    x2 = x0 + (HEALTH_FACTOR_ONE_WAD - h0) * (x1 - x0) // (h1 - h0)
    return min(max(x2, lo + 1), hi - 1)


def _estimate(curve: HealthCurve, lo: int, hi: int) -> int | None:
    """The closed form moved by one secant step: a monotone curve's seed when it has no exact
    one (only a seed: monotone.py confirms the boundary)."""
    guess = curve.closed_form()
    return None if guess is None or hi - lo <= 2 else _secant_seed(curve, guess, lo, hi)


def _boundary(curve: HealthCurve, lo: int, hi: int, is_right: Callable[[int], bool],
              shift: int) -> int:
    """Smallest x in (lo, hi] with is_right(x), given not is_right(lo) and is_right(hi):
    bisection of the bracket a seed and a few evaluations narrowed (or of all of it when
    there is no seed). The seed is the curve's own `boundary_seed` (+ shift: 1 when the first
    unhealthy x is sought) or else the closed form moved by one secant step. Every point it
    keeps was evaluated: the answer is exact."""
    if hi - lo > 2:
        seed = boundary_seed(curve)
        if seed is not None:
            seed = min(max(seed + shift, lo + 1), hi - 1)
        else:
            guess = curve.closed_form()
            seed = None if guess is None else _secant_seed(curve, guess, lo, hi)
        if seed is not None:
            lo, hi = gallop(lo, hi, seed, is_right)
    return first_bisect(lo, hi, is_right)


def _down_boundary(curve: HealthCurve, lo: int, hi: int) -> int:
    """Smallest healthy x in (lo, hi]: unhealthy at lo, healthy at hi."""
    return _boundary(curve, lo, hi, curve.healthy, 0)


def _up_boundary(curve: HealthCurve, lo: int, hi: int) -> int:
    """Largest healthy x in [lo, hi): healthy at lo, unhealthy at hi."""
    return _boundary(curve, lo, hi, lambda x: not curve.healthy(x), 1) - 1


def _first_down_crossing(curve: HealthCurve, x_low: int, now: int) -> int:
    """Smallest x healthy on all of [x, now]: where a falling price first liquidates."""
    boundary = _down_boundary(curve, x_low, now)
    dip = highest_unhealthy_below(curve, boundary, now)
    return boundary if dip is None else dip + 1


def _first_up_crossing(curve: HealthCurve, now: int, x_high: int) -> int:
    """Largest x healthy on all of [now, x]: where a rising price first liquidates."""
    boundary = _up_boundary(curve, now, x_high)
    dip = lowest_unhealthy_above(curve, now, boundary + 1)
    return boundary if dip is None else dip - 1


def find_boundary(curve: HealthCurve) -> tuple[Direction | None, int | None]:
    """Direction and liquidation price (native); (None, None) when no axis price changes
    health."""
    now = curve.price_now
    x_low, x_high = max(1, now // SENSITIVITY_RANGE), now * SENSITIVITY_RANGE
    sign = monotone_sign(curve)
    if sign is not None:  # proven monotone: no range probes, no dips (monotone.py)
        return monotone_boundary(curve, sign, x_low, x_high, gallop, _estimate)
    low_ok, high_ok = curve.healthy(x_low), curve.healthy(x_high)
    if low_ok and high_ok:
        return None, None  # hedged or no exposure: healthy across the whole range
    healthy_now = curve.healthy(now)
    if not low_ok and high_ok:
        if healthy_now:
            return Direction.DOWN, _first_down_crossing(curve, x_low, now)
        return Direction.DOWN, _down_boundary(curve, x_low, x_high)
    if low_ok and not high_ok:
        if healthy_now:
            return Direction.UP, _first_up_crossing(curve, now, x_high)
        return Direction.UP, _up_boundary(curve, x_low, x_high)
    if not healthy_now:
        return None, None  # unhealthy at both extremes and now: no price rescues it
    # Unhealthy at both extremes but healthy now (only possible through rounding
    # non-monotonicity): report the nearer of the two boundaries.
    down = _first_down_crossing(curve, x_low, now)
    up = _first_up_crossing(curve, now, x_high)
    if now * now <= down * up:  # now/down <= up/now: the fall is the smaller move
        return Direction.DOWN, down
    return Direction.UP, up


def liquidation_result(
    position: Position, axis: Axis, axis_price_now_8dec: int | None = None
) -> PositionResult | None:
    """Liquidation level of `position` on `axis`; None when the position has no debt.

    `axis` is resolved against the position's own market (its reference price is that
    market's oracle price); `axis_price_now_8dec` is the snapshot's axis price (default: the
    same). The level in USD is the position's relative move applied to the snapshot's price.

    Status:
      LIQUIDATABLE_NOW: unhealthy at current prices. Direction and price then describe the
        boundary on the other side: the axis price at which the position becomes healthy
        again (DOWN: it is healthy at and above that price; UP: at and below). Both None when
        no axis price makes it healthy. Seizable: at current prices.
      NOT_SENSITIVE: healthy at every axis price in [now / 100, now * 100] (hedged, or no
        exposure to the axis): direction and price None.
      AT_RISK: healthy now; the exact boundary above; seizable one unit past it.
    """
    if not position.state.has_debt:
        return None
    curve = position.state.curve(axis)
    now = curve.value(curve.price_now)
    direction, native = find_boundary(curve)
    if not curve.healthy(curve.price_now):
        status, seizable = PositionStatus.LIQUIDATABLE_NOW, curve.seizable_usd_8dec(curve.price_now)
    elif native is None:
        status, seizable = PositionStatus.NOT_SENSITIVE, 0
    else:
        # one unit past x: the first price at which the protocol accepts a liquidation
        past = native - 1 if direction is Direction.DOWN else native + 1
        status, seizable = PositionStatus.AT_RISK, curve.seizable_usd_8dec(past)
    axis_now_8dec = axis.reference_price_8dec if axis_price_now_8dec is None else (
        axis_price_now_8dec)
    vault = _vault_values(position)
    return PositionResult(
        market_key=position.market_key,
        protocol=position.protocol,
        account=position.account,
        axis=axis.name,
        status=status,
        direction=direction,
        liquidation_price_8dec=None if native is None else native * axis_now_8dec // (
            curve.price_now),
        axis_price_now_8dec=axis_now_8dec,
        health_factor_wad=now.health_factor_wad,
        collateral_usd_8dec=now.collateral_usd_8dec,
        debt_usd_8dec=now.debt_usd_8dec,
        axis_collateral_usd_8dec=curve.axis_collateral_usd_8dec(),
        seizable_usd_8dec=seizable,
        emode_category=position.emode_category,
        submarket=position.submarket,
        liquidation_price_native=native,
        native_price_unit=curve.price_unit,
        native_price_decimals=curve.price_decimals,
        # passed by name, not as **vault_fields: a ** call goes through the Python API
        liquidatable_next=vault[0], owner=vault[1], vault_id=vault[2],
    )


def vault_fields(position: Position) -> dict[str, Any]:
    """What a protocol's state may add beside the rule (PositionResult's optional fields):
    `liquidatable_next` (Maker's OSM next price), `owner` and `vault_id` (a vault held through
    a contract, e.g. a CdpManager UrnHandler). Absent attributes stay None."""
    state = position.state
    return {name: getattr(state, name, None) for name in _vault_names(state)}


def _vault_names(state: object) -> tuple[str, ...]:
    kind = type(state)
    names = _VAULT_NAMES.get(kind)
    if names is None:
        names = _VAULT_NAMES[kind] = _possible_vault_names(kind)
    return names


def _vault_values(position: Position) -> tuple[Any, Any, Any]:
    """vault_fields' values in VAULT_FIELDS order (None where absent)."""
    state = position.state
    names = _vault_names(state)
    if not names:  # the usual state: none of them (no dict built)
        return None, None, None
    found = vault_fields(position)
    return found.get("liquidatable_next"), found.get("owner"), found.get("vault_id")


VAULT_FIELDS = ("liquidatable_next", "owner", "vault_id")
# Per state class, the VAULT_FIELDS its instances can have: a failed getattr builds an
# AttributeError, which a compiled (native) class formats in full -- ~2 us a position.
_VAULT_NAMES: dict[type, tuple[str, ...]] = {}


def _possible_vault_names(kind: type) -> tuple[str, ...]:
    """All of VAULT_FIELDS but those no instance can have: absent from the class, which
    gives its instances no __dict__ (a native or slotted class) and no __getattr__ -- so the
    same dict of fields, less the ones that would always be None."""
    open_instances = kind.__dictoffset__ != 0 or hasattr(kind, "__getattr__")
    return tuple(name for name in VAULT_FIELDS if open_instances or hasattr(kind, name))


def unverified_result(
    position: Position, axis: Axis, axis_price_now_8dec: int | None = None
) -> PositionResult:
    """A position whose rule the protocol contradicts: its own totals, no price, no direction."""
    reported = position.state.reported()
    return PositionResult(
        market_key=position.market_key, protocol=position.protocol, account=position.account,
        axis=axis.name, status=PositionStatus.UNVERIFIED, direction=None,
        liquidation_price_8dec=None,
        axis_price_now_8dec=(axis.reference_price_8dec if axis_price_now_8dec is None
                             else axis_price_now_8dec),
        health_factor_wad=reported.health_factor_wad,
        collateral_usd_8dec=reported.collateral_usd_8dec, debt_usd_8dec=reported.debt_usd_8dec,
        axis_collateral_usd_8dec=0, seizable_usd_8dec=0, emode_category=position.emode_category,
        submarket=position.submarket, **vault_fields(position),
    )
