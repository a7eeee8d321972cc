"""One Morpho Blue position on one price axis: the health rule as a function of the axis.

A market has one collateral and one loan token and prices them with its own oracle
(`price()`: loan-token base units per collateral base unit, times 1e36). Moving an axis moves
that oracle price only when exactly one of the two tokens is on the axis:

* collateral on the axis (a long): x is the oracle price itself, `<loan> per <collateral>`;
  the position is liquidated when x falls to the boundary.
* loan token on the axis (a short): x is the inverse price, `<collateral> per <loan>`
  (1e72 // price, i.e. scaled 1e36 the other way); liquidated when x rises to the boundary.
* both or neither: no move of this axis changes health (not sensitive).

Health is `rule.is_healthy` at the accrued totals, bit-exact with `_isHealthy`; the
liquidation price is its boundary. USD values (collateral, debt, seizable) use the USD price
source's prices of the two tokens, moved with the axis the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from scanner.domain import WAD, Valuation
from scanner.protocols.morpho_blue.rule import (
    ORACLE_PRICE_SCALE,
    MarketTotals,
    borrowed_assets,
    liquidation_incentive_factor_wad,
    liquidation_price_1e36,
    max_borrow,
    seized_all_debt_raw,
)

INVERSE_SCALE = ORACLE_PRICE_SCALE * ORACLE_PRICE_SCALE
MAX_UINT256 = 2**256 - 1


@dataclass(frozen=True)
class Token:
    symbol: str
    decimals: int
    usd_8dec: int  # the USD price source's price of one whole token
    unit: int = field(init=False, repr=False, compare=False)  # 10**decimals, once

    def __post_init__(self) -> None:
        object.__setattr__(self, "unit", int(10**self.decimals))


@dataclass(slots=True)
class MorphoCurve:
    """Health of one position against the axis; `moves` is +1 long, -1 short, 0 flat.

    Not frozen, though nothing changes it after __post_init__: a frozen dataclass sets each
    field through object.__setattr__, ~2.5 us of the ~20 us the solver spends on a Morpho
    position (one curve per position and axis)."""

    collateral_raw: int
    borrow_shares: int
    totals: MarketTotals  # accrued to the scan block
    lltv_wad: int
    oracle_price_now: int  # 1e36 scale
    collateral: Token
    loan: Token
    moves: int
    # Derived once (the solver asks for them at every evaluation): the debt as `_isHealthy`
    # counts it, and today's x
    debt_raw: int = field(init=False, repr=False, compare=False)
    x_now: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.debt_raw = borrowed_assets(self.borrow_shares, self.totals)
        price = self.oracle_price_now
        self.x_now = INVERSE_SCALE // price if self.moves < 0 else price

    # --- the axis in the oracle's own terms ----------------------------------------------

    @property
    def price_now(self) -> int:
        return self.x_now

    @property
    def price_unit(self) -> str:
        if self.moves < 0:
            return f"{self.collateral.symbol}/{self.loan.symbol}"
        return f"{self.loan.symbol}/{self.collateral.symbol}"

    @property
    def price_decimals(self) -> int:
        shift = self.loan.decimals - self.collateral.decimals
        return 36 - shift if self.moves < 0 else 36 + shift

    def _x_of(self, oracle_price: int) -> int:
        return INVERSE_SCALE // oracle_price if self.moves < 0 else oracle_price

    def oracle_price_at(self, x: int) -> int:
        """The market oracle's price with the axis at x (flat: today's price)."""
        if self.moves == 0 or x == self.x_now:  # now is today's price, unrounded
            return self.oracle_price_now
        return INVERSE_SCALE // x if self.moves < 0 else x

    # --- the rule ------------------------------------------------------------------------

    @staticmethod
    def _unit(token: Token) -> int:
        return token.unit

    def _debt_raw(self) -> int:
        return self.debt_raw

    def healthy(self, x: int) -> bool:
        """maxBorrow (rule.max_borrow, inlined: the solver's hot path) >= borrowed."""
        if self.moves == 0 or x == self.x_now:
            price = self.oracle_price_now
        else:
            price = INVERSE_SCALE // x if self.moves < 0 else x
        return (self.collateral_raw * price // ORACLE_PRICE_SCALE * self.lltv_wad // WAD
                >= self.debt_raw)

    def _loan_usd_8dec(self, x: int) -> int:
        if self.moves < 0:  # the loan token moves with the axis
            return self.loan.usd_8dec * x // self.x_now
        return self.loan.usd_8dec

    def _collateral_usd_8dec(self, x: int) -> int:
        if self.moves > 0:
            return self.collateral.usd_8dec * x // self.x_now
        return self.collateral.usd_8dec

    def value(self, x: int) -> Valuation:
        debt_raw = self.debt_raw
        collateral_8dec = (self.collateral_raw * self._collateral_usd_8dec(x)
                           // self.collateral.unit)
        debt_8dec = debt_raw * self._loan_usd_8dec(x) // self.loan.unit
        borrowable = max_borrow(self.collateral_raw, self.oracle_price_at(x), self.lltv_wad)
        # maxBorrow / borrowed as a wad: >= 1e18 exactly when `_isHealthy` says healthy
        health = borrowable * WAD // debt_raw if debt_raw else MAX_UINT256
        return Valuation(collateral_8dec, debt_8dec, health)

    def seizable_usd_8dec(self, x: int) -> int:
        """Collateral a liquidator takes repaying the whole debt at x (capped at all of it:
        `liquidate_all_debt`'s seized amount, without the repaid shares it also works out)."""
        seized_raw = seized_all_debt_raw(self.collateral_raw, self.borrow_shares, self.totals,
                                         self.oracle_price_at(x),
                                         liquidation_incentive_factor_wad(self.lltv_wad))
        return seized_raw * self._collateral_usd_8dec(x) // self.collateral.unit

    def axis_collateral_usd_8dec(self) -> int:
        if self.moves <= 0:
            return 0
        return self.collateral_raw * self.collateral.usd_8dec // self._unit(self.collateral)

    def monotone_sign(self) -> int:
        """maxBorrow is non-decreasing in the oracle price, which rises with x for a long
        and falls for a short (1e72 // x; today's unrounded price sits between its
        neighbours' floors): proven monotone (pipeline/monotone.py)."""
        return self.moves

    def boundary_seed(self) -> int | None:
        """The exact boundary of the oracle price as an x: the smallest healthy x of a long,
        the largest of a short."""
        if self.moves == 0:
            return None
        boundary = liquidation_price_1e36(self.collateral_raw, self.debt_raw, self.lltv_wad)
        if boundary is None:
            return None
        return boundary if self.moves > 0 else INVERSE_SCALE // boundary

    def piece(self, x: int) -> int:
        return 0  # maxBorrow is monotone in the oracle price: one piece

    def surely_healthy(self, x: int) -> bool:
        return True

    def closed_form(self) -> int | None:
        """The exact boundary of the oracle price, as an x (the bisection verifies it)."""
        boundary = liquidation_price_1e36(self.collateral_raw, self.debt_raw, self.lltv_wad)
        if boundary is None or self.moves == 0:
            return None
        return self._x_of(boundary)
