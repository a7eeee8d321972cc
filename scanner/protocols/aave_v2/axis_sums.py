"""`calculate_totals` of one Aave v2 account as a function of the axis price x, built once
per curve (the v2 twin of aave_v3/axis_sums.py).

The solver asks one account's health at ~5-40 axis prices. GenericLogic's sums are sums of
per-leg floors, so the legs whose ETH price the axis does not move add the same integers at
every x: axis_monotone.split sums them once. Only the moving legs are revalued at x, with
`V2Curve.prices_at`'s floors: `p * x // ref_now` (members, off the ETH axis) or
`p * ref_now // x` (non-members, on the ETH axis, where the ETH unit itself moves).
No dict of prices and no Totals object is built per evaluation.
"""

from __future__ import annotations

from collections.abc import Mapping

from scanner.domain import Address
from scanner.protocols.aave_v2.axis_monotone import Split
from scanner.protocols.aave_v2.generic_logic import MAX_UINT256, percent_mul, wad_div

# (collateral_eth_wei, debt_eth_wei, avg_lt_bps, health_factor_wad, weighted_collateral):
# the fields of generic_logic.Totals, as a plain tuple
TotalsTuple = tuple[int, int, int, int, int]
# A moving leg: (price now in ETH wei, unit, collateral_raw, debt_raw, lt_bps)
MovingLeg = tuple[int, int, int, int, int]


class V2Sums:
    """The fixed legs' sums and the moving legs of one account on one axis."""

    __slots__ = ("collateral_fixed", "debt_fixed", "moving", "ref_now_8dec", "rising",
                 "weighted_fixed")

    def __init__(self, split: Split, prices_now_eth_wei: Mapping[Address, int],
                 ref_now_8dec: int) -> None:
        self.collateral_fixed = split.fixed_collateral
        self.weighted_fixed = split.fixed_weighted
        self.debt_fixed = split.fixed_debt
        self.rising = split.direction > 0
        self.ref_now_8dec = ref_now_8dec
        self.moving: tuple[MovingLeg, ...] = tuple(
            (prices_now_eth_wei[leg.asset], leg.unit, leg.collateral_raw, leg.debt_raw,
             leg.lt_bps) for leg in split.moving)

    def totals(self, x_8dec: int) -> TotalsTuple:
        """calculate_totals(legs, curve.prices_at(x)), field for field."""
        collateral = self.collateral_fixed
        weighted = self.weighted_fixed
        debt = self.debt_fixed
        ref = self.ref_now_8dec
        rising = self.rising
        for price_now, unit, collateral_raw, debt_raw, lt_bps in self.moving:
            price = price_now * x_8dec // ref if rising else price_now * ref // x_8dec
            if collateral_raw:
                value = price * collateral_raw // unit
                collateral += value
                weighted += value * lt_bps
            if debt_raw:
                debt += price * debt_raw // unit
        avg_lt_bps = weighted // collateral if collateral else 0
        health = MAX_UINT256 if debt == 0 else wad_div(percent_mul(collateral, avg_lt_bps),
                                                       debt)
        return collateral, debt, avg_lt_bps, health, weighted
