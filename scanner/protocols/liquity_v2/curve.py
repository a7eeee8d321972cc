"""A Liquity v2 trove on a price axis: batchLiquidateTroves' test as a function of x.

`x` is the axis reference asset's price (18 decimals, USD) in this deployment's feeds (each
branch's `fetchPrice()` at the block; BOLD counts as one dollar). Moving the axis to x scales
the price of every branch whose collateral is on the axis by x / now (floored; the reference
itself is then exactly x). Health is `not liquidatable(entireColl, entireDebt, price(x),
MCR)` with the debt accrued to the scan block (interest, batch interest and fee, pending
redistribution). A branch whose feed fell back to lastGoodPrice after an oracle failure
liquidates at that frozen price whatever the market does, so no x moves it. Monotone in x.
"""

from __future__ import annotations

from dataclasses import dataclass

from scanner.domain import Address, Axis, Valuation
from scanner.protocols.liquity_v2.rule import DECIMAL_PRECISION, TroveDebt, collateral_ratio
from scanner.protocols.liquity_v2.state import Liquity2Branch, Liquity2Trove

NO_DEBT_HEALTH_FACTOR_WAD = 2**256 - 1
_WAD_TO_8DEC = 10**10


@dataclass(frozen=True)
class Liquity2Curve:
    debt: TroveDebt
    branch: Liquity2Branch
    on_axis: bool
    ref_now: int  # the axis reference's price (18 decimals) in this deployment
    stake: int = 0  # Troves(id).stake: its share of the branch's redistributions

    price_unit = "USD"
    price_decimals = 18

    @property
    def price_now(self) -> int:
        return self.ref_now

    def price(self, x: int) -> int:
        now = self.branch.price
        return now * x // self.ref_now if self.on_axis else now

    def healthy(self, x: int) -> bool:
        return collateral_ratio(self.debt.entire_coll, self.debt.entire_debt,
                                self.price(x)) >= self.branch.mcr

    def value(self, x: int) -> Valuation:
        return trove_valuation(self.debt, self.branch, self.price(x))

    def seizable_usd_8dec(self, x: int) -> int:
        """A liquidation closes the trove: its whole collateral leaves the borrower (what
        exceeds the penalty returns later as a claimable surplus)."""
        return self.debt.entire_coll * self.price(x) // DECIMAL_PRECISION // _WAD_TO_8DEC

    def axis_collateral_usd_8dec(self) -> int:
        if not self.on_axis:
            return 0
        return self.debt.entire_coll * self.branch.price // DECIMAL_PRECISION // _WAD_TO_8DEC

    def monotone_sign(self) -> int:
        """ICR = coll * price // debt with price = now * x // ref_now: both floors are
        non-decreasing in x, so health is too (pipeline/monotone.py); off the axis, flat."""
        return 1 if self.on_axis else 0

    def boundary_seed(self) -> int | None:
        """The smallest healthy x, the floors inverted: the smallest price with
        coll * price >= MCR * debt, then the smallest x with now * x >= that * ref_now."""
        coll, now = self.debt.entire_coll, self.branch.price
        if not self.on_axis or coll == 0 or now == 0:
            return None
        price = -(-self.branch.mcr * self.debt.entire_debt // coll)
        return -(-price * self.ref_now // now)

    def piece(self, x: int) -> int:
        return 0

    def surely_healthy(self, x: int) -> bool:
        return True

    def closed_form(self) -> int | None:
        """x where entireColl * price == MCR * entireDebt, ignoring the floors."""
        if not self.on_axis or self.debt.entire_coll == 0 or self.branch.price == 0:
            return None
        boundary = self.branch.mcr * self.debt.entire_debt // self.debt.entire_coll
        return max(boundary * self.ref_now // self.branch.price, 1)


def trove_valuation(debt: TroveDebt, branch: Liquity2Branch, price: int) -> Valuation:
    """Collateral at `price`, debt in BOLD at $1, health = ICR / MCR (1e18 at the boundary:
    ICR >= MCR exactly when ICR * 1e18 // MCR >= 1e18)."""
    ratio = collateral_ratio(debt.entire_coll, debt.entire_debt, price)
    health = (ratio * DECIMAL_PRECISION // branch.mcr if debt.entire_debt and branch.mcr
              else NO_DEBT_HEALTH_FACTOR_WAD)
    return Valuation(debt.entire_coll * price // DECIMAL_PRECISION // _WAD_TO_8DEC,
                     debt.entire_debt // _WAD_TO_8DEC, health)


@dataclass(frozen=True)
class Liquity2Position:
    """The neutral pipeline's handle on one trove (scanner.domain.PositionState)."""

    trove: Liquity2Trove
    debt: TroveDebt  # accrued to the scan block by the rule
    branch: Liquity2Branch
    branch_prices: tuple[tuple[Address, int], ...]  # every branch token's price (fetchPrice)

    @property
    def has_debt(self) -> bool:
        return self.debt.entire_debt > 0

    @property
    def owner(self) -> Address | None:
        """TroveNFT.ownerOf(troveId)."""
        return self.trove.owner

    @property
    def shut_down(self) -> bool:
        return self.branch.shut_down

    def curve(self, axis: Axis) -> Liquity2Curve:
        token = self.branch.addresses.token
        ref_now = dict(self.branch_prices).get(axis.reference, self.branch.price)
        on_axis = token in axis.members and ref_now > 0 and not self.branch.price_frozen
        return Liquity2Curve(self.debt, self.branch, on_axis,
                             ref_now if on_axis else max(axis.reference_price_8dec, 1),
                             self.trove.stake)

    def reported(self) -> Valuation:
        """The TroveManager's own getLatestTroveData at the block, at the branch's price."""
        debt = TroveDebt(self.trove.reported_entire_debt, self.trove.reported_entire_coll,
                         0, 0, 0)
        return trove_valuation(debt, self.branch, self.branch.price)
