"""`totals_for_legs` of one account as a function of the axis price x, compiled once per curve.

The solver asks the same account's health at ~15 axis prices. Each sum of GenericLogic
(Σ value_i, Σ value_i * LT_i, Σ debt_j) is a sum of per-leg integers, each leg floored (or,
v3.5+ debt, ceiled) on its own, so the legs whose price does not move with the axis add the
same integers at every x: they are summed once here. Only the moving legs are revalued at x,
with the same floors as `prices_at` + `leg_price_8dec` + `totals_for_legs`:

    price(x) = price_now * x // ref_now   (members of the axis; others keep price_now)
    a zero eMode-source price falls back to the asset's own price (GenericLogic v3.0)

`compile_sums` returns None when a leg has no price at all (totals_for_legs raises there):
such a curve keeps the generic path, which raises the same error.
"""

from __future__ import annotations

from collections.abc import Mapping

from scanner.domain import WAD, Address
from scanner.protocols.aave_v3.generic_logic import (
    CEILS_DEBT,
    MAX_UINT256,
    PERCENTAGE_FACTOR,
    AccountLeg,
    HealthArithmetic,
)

# (collateral_8dec, debt_8dec, avg_lt_bps, health_factor_wad, weighted_collateral):
# the fields of AccountTotals, as a plain tuple (no object built per evaluation)
TotalsTuple = tuple[int, int, int, int, int]


# A leg revalued at every x (a plain tuple: built once per curve, read ~15 times):
# (the price asset's price now (None: not in the oracle), does it move with the axis,
#  may a zero price fall back to the asset's own (an eMode source), the asset's price now,
#  does it move, unit, collateral_raw, debt_raw, lt_bps)
MovingLeg = tuple[int | None, bool, bool, int | None, bool, int, int, int, int]


class AxisSums:
    """The non-moving legs' sums and the moving legs of one account on one axis."""

    __slots__ = (
        "ceil_debt",
        "collateral_fixed_8dec",
        "debt_fixed_8dec",
        "moving",
        "one_leg",
        "ref_now_8dec",
        "weighted_fixed",
    )

    def __init__(self, collateral_fixed_8dec: int, weighted_fixed: int, debt_fixed_8dec: int,
                 moving: tuple[MovingLeg, ...], ceil_debt: bool, ref_now_8dec: int) -> None:
        self.collateral_fixed_8dec = collateral_fixed_8dec
        self.weighted_fixed = weighted_fixed
        self.debt_fixed_8dec = debt_fixed_8dec
        self.moving = moving
        self.ceil_debt = ceil_debt
        self.ref_now_8dec = ref_now_8dec
        # The usual account: one moving leg priced by its own (moving) source, no fallback --
        # (source_now, unit, collateral_raw, debt_raw, lt_bps), evaluated without the loop.
        self.one_leg: tuple[int, int, int, int, int] | None = None
        if len(moving) == 1 and moving[0][1] and not moving[0][2]:
            leg = moving[0]
            self.one_leg = (leg[0], leg[5], leg[6], leg[7], leg[8])  # type: ignore[assignment]

    def totals(self, x: int) -> TotalsTuple:
        """totals_for_legs(legs, prices_at(x), arithmetic), field for field."""
        one = self.one_leg
        if one is not None:  # unpacked by name: a star call goes through the Python API
            price_now, leg_unit, leg_collateral_raw, leg_debt_raw, leg_lt_bps = one
            return self._one_leg_totals(x, price_now, leg_unit, leg_collateral_raw,
                                        leg_debt_raw, leg_lt_bps)
        collateral = self.collateral_fixed_8dec
        weighted = self.weighted_fixed
        debt = self.debt_fixed_8dec
        ref = self.ref_now_8dec
        for (source_now, source_moves, fallback, asset_now, asset_moves, unit, collateral_raw,
             debt_raw, lt_bps) in self.moving:
            price = source_now * x // ref if source_moves else source_now  # type: ignore[operator]
            if not price and fallback:
                price = asset_now * x // ref if asset_moves else asset_now  # type: ignore[operator]
            if price is None:  # unreachable: compile_sums refuses such legs
                raise AssertionError("a moving leg without a price")
            if collateral_raw:
                value = collateral_raw * price // unit
                collateral += value
                weighted += value * lt_bps
            if debt_raw:
                debt += (-((-debt_raw * price) // unit) if self.ceil_debt
                         else debt_raw * price // unit)
        return _finish(collateral, weighted, debt, self.ceil_debt)

    def _one_leg_totals(self, x: int, source_now: int, unit: int, collateral_raw: int,
                        debt_raw: int, lt_bps: int) -> TotalsTuple:
        """`totals` when `one_leg` is set (the loop's arithmetic for that one leg)."""
        collateral = self.collateral_fixed_8dec
        weighted = self.weighted_fixed
        debt = self.debt_fixed_8dec
        price = source_now * x // self.ref_now_8dec
        if collateral_raw:
            value = collateral_raw * price // unit
            collateral += value
            weighted += value * lt_bps
        if debt_raw:
            debt += (-((-debt_raw * price) // unit) if self.ceil_debt
                     else debt_raw * price // unit)
        return _finish(collateral, weighted, debt, self.ceil_debt)


def _finish(collateral: int, weighted: int, debt: int, ceil_debt: bool) -> TotalsTuple:
    """avgLT and HF from the three sums, with the libraries' rounding (generic_logic)."""
    avg_lt_bps = weighted // collateral if collateral else 0
    if debt == 0:
        health = MAX_UINT256
    elif ceil_debt:  # wad_div(weighted, debt) // 1e4
        health = (weighted * WAD + debt // 2) // debt // PERCENTAGE_FACTOR
    else:  # wad_div(percent_mul(collateral, avgLT), debt)
        percent = (collateral * avg_lt_bps + PERCENTAGE_FACTOR // 2) // PERCENTAGE_FACTOR
        health = (percent * WAD + debt // 2) // debt
    return collateral, debt, avg_lt_bps, health, weighted


def _price_now(leg: AccountLeg, prices: Mapping[Address, int],
               members: frozenset[Address]) -> tuple[int | None, bool, bool, int | None, bool]:
    source_now = prices.get(leg.price_asset)
    asset_now = prices.get(leg.asset)
    return (source_now, source_now is not None and leg.price_asset in members,
            leg.price_asset != leg.asset, asset_now,
            asset_now is not None and leg.asset in members)


def compile_sums(legs: tuple[AccountLeg, ...], prices_now_8dec: Mapping[Address, int],
                 members: frozenset[Address], ref_now_8dec: int,
                 arithmetic: HealthArithmetic) -> AxisSums | None:
    """The account's sums split into fixed and moving legs; None if a leg has no price."""
    ceil_debt = arithmetic in CEILS_DEBT
    collateral = weighted = debt = 0
    moving: list[MovingLeg] = []
    for leg in legs:
        if leg.collateral_raw == 0 and leg.debt_raw == 0:
            continue  # totals_for_legs skips it before reading a price
        source_now, source_moves, fallback, asset_now, asset_moves = _price_now(
            leg, prices_now_8dec, members)
        if source_now is None and not (fallback and asset_now is not None):
            return None  # leg_price_8dec raises for it at every x
        if fallback and asset_now is None and (source_moves or not source_now):
            return None  # it raises wherever the source's price is (or floors to) zero
        fixed = not source_moves and (source_now or not fallback or not asset_moves)
        if not fixed:
            moving.append((source_now, source_moves, fallback, asset_now, asset_moves,
                           leg.unit, leg.collateral_raw, leg.debt_raw, leg.lt_bps))
            continue
        price = source_now if source_now or not fallback else asset_now
        if price is None:
            return None
        if leg.collateral_raw:
            value = leg.collateral_raw * price // leg.unit
            collateral += value
            weighted += value * leg.lt_bps
        if leg.debt_raw:
            debt += (-((-leg.debt_raw * price) // leg.unit) if ceil_debt
                     else leg.debt_raw * price // leg.unit)
    return AxisSums(collateral, weighted, debt, tuple(moving), ceil_debt, ref_now_8dec)
