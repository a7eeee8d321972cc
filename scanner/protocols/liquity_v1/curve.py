"""A Liquity v1 trove on a price axis: `liquidate(borrower)`'s verdict as a function of the ETH
price, in normal and recovery mode.

`x` is the PriceFeed's ETH price (wad, USD; LUSD counts as a dollar, as the feed's USD price
does). Both the trove's ICR and the system's TCR move with x; the trove's entire debt and coll
(pending redistribution rewards included), the system totals and the Stability Pool do not.
Liquidatable is monotone in x: ICR < MCR and TCR < CCR only get truer as x falls, and whether
ICR < TCR is (up to the floors) the price-free coll/debt < systemColl/systemDebt.
"""

from __future__ import annotations

from dataclasses import dataclass

from scanner.domain import Axis, Valuation
from scanner.protocols.liquity_v1.rule import (
    CCR,
    MCR,
    LiquidationMode,
    compute_cr,
    liquidation_mode,
    seized_coll_wei,
)
from scanner.protocols.liquity_v1.state import LiquitySystem, LiquityTrove

WAD = 10**18
# scanner.pipeline.liquidation's: the solver looks at [now / 100, now * 100]
SENSITIVITY_RANGE = 100
NO_DEBT_HEALTH_FACTOR_WAD = 2**256 - 1
_WAD_TO_8DEC = 10**10
# Liquity's collateral is native ether, not a token: it is listed under the usual placeholder
# address with the symbol "ETH" (put "ETH" in an axis's members to move it with that axis)
ETH_ADDRESS = "0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeEEeE"
ETH_SYMBOL = "ETH"


@dataclass(frozen=True)
class LiquityCurve:
    debt_wad: int  # entire: pending redistribution included
    coll_wei: int
    system: LiquitySystem
    on_axis: bool
    trove: LiquityTrove | None = None  # the stored trove: its entire debt/coll under another
    # system (a cascade's redistributions raise L_ETH / L_LUSDDebt)

    price_unit = "USD"
    price_decimals = 18

    @property
    def price_now(self) -> int:
        return self.system.price_wad

    def price(self, x: int) -> int:
        return x if self.on_axis else self.system.price_wad

    def mode(self, x: int) -> LiquidationMode | None:
        """How `liquidate` treats the trove with the feed at x; None: it reverts."""
        s = self.system
        return liquidation_mode(self.coll_wei, self.debt_wad, s.system_coll_wei,
                                s.system_debt_wad, s.lusd_in_sp_wad, s.trove_count,
                                self.price(x))

    def healthy(self, x: int) -> bool:
        return self.mode(x) is None

    def value(self, x: int) -> Valuation:
        """Collateral at x, debt in LUSD as dollars, and a health factor that is < 1e18
        exactly where `liquidate` acts (floors aside): ICR / MCR, or, for a trove the Stability
        Pool covers whose ICR is below the TCR, the lower of that and TCR / CCR."""
        price = self.price(x)
        icr = compute_cr(self.coll_wei, self.debt_wad, price)
        health = NO_DEBT_HEALTH_FACTOR_WAD if self.debt_wad == 0 else icr * WAD // MCR
        s = self.system
        tcr = compute_cr(s.system_coll_wei, s.system_debt_wad, price)
        if self.debt_wad and 0 < self.debt_wad <= s.lusd_in_sp_wad and icr < tcr:
            health = min(health, tcr * WAD // CCR)
        return Valuation(self.coll_wei * price // WAD // _WAD_TO_8DEC,
                         self.debt_wad // _WAD_TO_8DEC, health)

    def seizable_usd_8dec(self, x: int) -> int:
        mode = self.mode(x)
        if mode is None:
            return 0
        price = self.price(x)
        return (seized_coll_wei(self.coll_wei, self.debt_wad, price, mode) * price // WAD
                // _WAD_TO_8DEC)

    def axis_collateral_usd_8dec(self) -> int:
        return self.coll_wei * self.system.price_wad // WAD // _WAD_TO_8DEC if self.on_axis else 0

    def _capped_possible(self) -> bool:
        """Recovery mode's capped offset (MCR <= ICR < TCR) can take this trove at some
        price: the pool covers its debt and its coll/debt is below the system's (otherwise
        floor(c*x/d) >= floor(C*x/D) at every x)."""
        s = self.system
        return (0 < self.debt_wad <= s.lusd_in_sp_wad and s.system_debt_wad > 0
                and self.coll_wei * s.system_debt_wad < s.system_coll_wei * self.debt_wad)

    def _x_mcr(self) -> int:
        """The smallest x with ICR >= MCR: c * x >= MCR * d."""
        return -(-MCR * self.debt_wad // self.coll_wei)

    def monotone_sign(self) -> int | None:
        """Unhealthy is [ICR < MCR] or [TCR < CCR and ICR < TCR] (the capped offset), ICR
        and TCR non-decreasing in x. Without the capped offset the first alone: a prefix.
        With it, proven only when ICR < TCR wherever ICR >= MCR in the solver's range
        (x * (C*d - c*D) >= D*d from there on, so the floors differ by at least one): then
        unhealthy is exactly x < max(x_MCR, x_CCR), a prefix. Otherwise the floors can tie
        (ICR == TCR) at some x and not at x+1: not proven, the general solver decides."""
        s = self.system
        if not self.on_axis or s.trove_count <= 1 or self.debt_wad == 0:
            return 0
        if self.coll_wei == 0 or not self._capped_possible():
            return 1
        x0 = max(max(1, self.price_now // SENSITIVITY_RANGE), self._x_mcr())
        gap = s.system_coll_wei * self.debt_wad - self.coll_wei * s.system_debt_wad
        return 1 if x0 * gap >= s.system_debt_wad * self.debt_wad else None

    def boundary_seed(self) -> int | None:
        """The smallest healthy x: x_MCR, or with the capped offset max(x_MCR, x_CCR) (the
        smallest x with TCR >= CCR: C * x >= CCR * D)."""
        s = self.system
        if not self.on_axis or self.coll_wei == 0 or self.debt_wad == 0:
            return None
        if not self._capped_possible():
            return self._x_mcr()
        return max(self._x_mcr(), -(-CCR * s.system_debt_wad // s.system_coll_wei))

    def piece(self, x: int) -> int:
        return 0

    def surely_healthy(self, x: int) -> bool:
        return True

    def closed_form(self) -> int | None:
        """MCR * debt / coll, or the price where TCR reaches CCR when recovery mode would
        liquidate the trove first (ignoring the floors)."""
        if not self.on_axis or self.coll_wei == 0:
            return None
        s = self.system
        normal = MCR * self.debt_wad // self.coll_wei
        if (0 < self.debt_wad <= s.lusd_in_sp_wad and s.system_coll_wei
                and self.coll_wei * s.system_debt_wad < s.system_coll_wei * self.debt_wad):
            return max(normal, CCR * s.system_debt_wad // s.system_coll_wei, 1)
        return max(normal, 1)


@dataclass(frozen=True)
class LiquityPosition:
    """The neutral pipeline's handle on one trove (scanner.domain.PositionState)."""

    trove: LiquityTrove
    system: LiquitySystem

    @property
    def has_debt(self) -> bool:
        return self.trove.debt_wad > 0

    def entire(self) -> tuple[int, int]:
        return self.trove.entire(self.system)

    def curve(self, axis: Axis) -> LiquityCurve:
        debt, coll = self.entire()
        return LiquityCurve(debt, coll, self.system, ETH_ADDRESS in axis.members, self.trove)

    def reported(self) -> Valuation:
        """The TroveManager's own getEntireDebtAndColl at the feed's price (ICR / MCR)."""
        price, t = self.system.price_wad, self.trove
        icr = compute_cr(t.reported_coll_wei, t.reported_debt_wad, price)
        return Valuation(t.reported_coll_wei * price // WAD // _WAD_TO_8DEC,
                         t.reported_debt_wad // _WAD_TO_8DEC,
                         icr * WAD // MCR if t.reported_debt_wad else NO_DEBT_HEALTH_FACTOR_WAD)
