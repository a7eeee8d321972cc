"""A Comet position on a price axis: the rule of `rule.py` as a function of the axis price.

`x` is the axis reference asset's USD price (8 dec) as this Comet sees it: its feeds, times
the configured `quote_usd_feed` when the Comet prices in its base token (cWETHv3: ETH).
Moving the axis to x scales every member's USD price by x / now; a Comet feed is the asset's
price over its unit's price, so its answer becomes `p * (x if member else now) //
(x if the unit is a member else now)` (floored, at least 1: a feed never answers 0 and
Comet reverts on it). Health is the contract's own sign test: `liquidity >= 0` with the
liquidateCollateralFactor and the borrow index accrued to the scan block, as `absorb` sees it.
Liquidity is monotone in x, so `piece` is constant and `surely_healthy` always true.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from scanner.cascade.depth import DepthModel
from scanner.domain import WAD, Address, Axis, Valuation
from scanner.protocols.compound_v3.compiled import CompiledComet, compile_comet
from scanner.protocols.compound_v3.rule import (
    PRICE_SCALE,
    CometPrices,
    liquidity_8dec,
    mul_factor,
    mul_price,
    present_debt_raw,
)
from scanner.protocols.compound_v3.state import CometMarketState, CometUser, StoreStock

NO_DEBT_HEALTH_FACTOR_WAD = 2**256 - 1


class CometCurve:
    """A Comet account against one axis. A plain class with every attribute declared, so
    that compiled (scanner/native.py) it is a native class."""

    def __init__(self, user: CometUser, market: CometMarketState,
                 axis_members: frozenset[Address], ref_now_usd_8dec: int,
                 stock: StoreStock | None = None, resale: DepthModel | None = None) -> None:
        self.user = user
        self.market = market
        self.axis_members = axis_members
        self.ref_now_usd_8dec = ref_now_usd_8dec
        # the store front as earlier liquidations of a cascade left it (the sale's LEDGER);
        # None: as read at the block
        self.stock = stock
        # the market the store front's buyer resells on (the cascade's depth model); None:
        # the buyer takes everything on sale (no market to stop it)
        self.resale = resale
        self._compiled_known = False
        self._compiled_value: CompiledComet | None = None

    def with_stock(self, stock: StoreStock) -> CometCurve:
        return CometCurve(self.user, self.market, self.axis_members, self.ref_now_usd_8dec,
                          stock, self.resale)

    def with_resale(self, resale: DepthModel) -> CometCurve:
        return CometCurve(self.user, self.market, self.axis_members, self.ref_now_usd_8dec,
                          self.stock, resale)

    @property
    def price_unit(self) -> str:
        return "USD"

    @property
    def price_decimals(self) -> int:
        return 8

    @property
    def price_now(self) -> int:
        return self.ref_now_usd_8dec

    @property
    def stock_now(self) -> StoreStock:
        if self.stock is None:
            return StoreStock.at_block(self.market.store_front)
        return self.stock

    @property
    def _unit_moves(self) -> bool:
        return self.market.quote_usd_8dec is not None and (
            self.market.base_token in self.axis_members)

    def _native(self, asset: Address, price: int, x: int) -> int:
        now = self.ref_now_usd_8dec
        num = x if asset in self.axis_members else now
        den = x if self._unit_moves else now
        return max(price * num // den, 1)

    def prices_at(self, x: int) -> CometPrices:
        prices = self.market.prices
        return CometPrices(
            self._native(self.market.base_token, prices.base_8dec, x),
            {a: self._native(a, p, x) for a, p in prices.collateral_8dec.items()})

    def _usd(self, native_8dec: int, x: int) -> int:
        quote = self.market.quote_usd_8dec
        if quote is None:
            return native_8dec
        if self._unit_moves:
            quote = quote * x // self.ref_now_usd_8dec
        return native_8dec * quote // PRICE_SCALE

    def _held(self, prices: CometPrices) -> list[tuple[int, int]]:
        """(collateral value, liquidation-weighted value) per held asset, native 8 dec."""
        basic = self.user.basic
        out = []
        for asset in self.market.assets:
            if basic.assets_in >> asset.offset & 1:
                value = mul_price(basic.collateral_raw.get(asset.asset, 0),
                                  prices.collateral_8dec[asset.asset], asset.scale)
                out.append((value, mul_factor(value, asset.liquidate_collateral_factor_wad)))
        return out

    @property
    def _compiled(self) -> CompiledComet | None:
        if not self._compiled_known:
            self._compiled_value = compile_comet(self.user, self.market, self.axis_members,
                                                 self._unit_moves, self.ref_now_usd_8dec)
            self._compiled_known = True
        return self._compiled_value

    def monotone_sign(self) -> int | None:
        """Proven monotonicity of the liquidity in x (compiled.py; pipeline/monotone.py)."""
        compiled = self._compiled
        return None if compiled is None else compiled.monotone_sign()

    def boundary_seed(self) -> int | None:
        compiled = self._compiled
        if compiled is None:
            return None
        sign = compiled.monotone_sign()
        return compiled.seed(sign) if sign else None

    def healthy(self, x: int) -> bool:
        compiled = self._compiled
        if compiled is not None:
            return compiled.liquidity(x) >= 0
        m = self.market
        return liquidity_8dec(self.user.basic, m.assets, self.prices_at(x), m.base_scale,
                              m.accrued_totals) >= 0

    def value(self, x: int) -> Valuation:
        compiled = self._compiled
        if compiled is not None:  # a borrower: its terms at x in one pass
            collateral, weighted, debt = compiled.valuation(x)
            health = weighted * WAD // debt if debt else NO_DEBT_HEALTH_FACTOR_WAD
            return Valuation(self._usd(collateral, x), self._usd(debt, x), health)
        prices = self.prices_at(x)
        debt_raw = present_debt_raw(self.user.basic.principal, self.market.accrued_totals)
        return _valuation(self._held(prices), debt_raw * prices.base_8dec
                          // self.market.base_scale, lambda v: self._usd(v, x))

    def seizable_usd_8dec(self, x: int) -> int:
        """absorb seizes every held collateral in full."""
        compiled = self._compiled
        if compiled is not None:
            return self._usd(compiled.valuation(x)[0], x)
        return self._usd(sum(value for value, _ in self._held(self.prices_at(x))), x)

    def axis_collateral_usd_8dec(self) -> int:
        basic, now = self.user.basic, self.ref_now_usd_8dec
        total = 0
        for asset in self.market.assets:
            if basic.assets_in >> asset.offset & 1 and asset.asset in self.axis_members:
                total += mul_price(basic.collateral_raw.get(asset.asset, 0),
                                   self.market.prices.collateral_8dec[asset.asset], asset.scale)
        return self._usd(total, now)

    def piece(self, x: int) -> int:
        return 0

    def surely_healthy(self, x: int) -> bool:
        return True

    def closed_form(self) -> int | None:
        return None


def _valuation(held: list[tuple[int, int]], debt_native_8dec: int,
               to_usd: Callable[[int], int]) -> Valuation:
    weighted = sum(w for _, w in held)
    health = (weighted * WAD // debt_native_8dec if debt_native_8dec
              else NO_DEBT_HEALTH_FACTOR_WAD)
    return Valuation(to_usd(sum(v for v, _ in held)), to_usd(debt_native_8dec), health)


@dataclass(frozen=True)
class CometPosition:
    """The neutral pipeline's handle on one Comet account (scanner.domain.PositionState)."""

    user: CometUser
    market: CometMarketState

    def __reduce__(self) -> tuple[type[CometPosition], tuple[CometUser, CometMarketState]]:
        # Copied by constructor: compiled (scanner/native.py), a frozen dataclass has no
        # __dict__ for the default field-by-field restore of a serialised copy.
        return (CometPosition, (self.user, self.market))

    @property
    def has_debt(self) -> bool:
        return self.user.basic.principal < 0

    def curve(self, axis: Axis) -> CometCurve:
        return CometCurve(self.user, self.market, axis.members, axis.reference_price_8dec)

    def reported(self) -> Valuation:
        """borrowBalanceOf for the debt; the collateral at the Comet's prices; the health
        factor 0 when the isLiquidatable view says so, else the rule's ratio."""
        curve = CometCurve(self.user, self.market, frozenset(), 1)
        held = curve._held(self.market.prices)
        debt = self.user.reported_debt_raw * self.market.prices.base_8dec // self.market.base_scale
        valuation = _valuation(held, debt, lambda v: curve._usd(v, 1))
        if self.user.reported_liquidatable:
            return Valuation(valuation.collateral_usd_8dec, valuation.debt_usd_8dec, 0)
        return valuation
