"""What one liquidation puts on the market: the protocol-neutral result of a protocol's
`liquidation_sale` (scanner/protocols/<p>/liquidation_sale.py).

Each protocol package exposes `liquidation_sale(curve, x) -> LiquidationSale | None`: with the
axis at x (the curve's own terms, as `HealthCurve.healthy`), None when the protocol refuses
to liquidate the position; otherwise every call a liquidator makes at that price (Aave:
repeated while the position stays liquidatable), the collateral sold on the market by asset,
the debt repaid, the debt left without collateral, and the position left behind (`after`, a
curve of the same protocol, None when nothing is left to liquidate).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from scanner.cascade.depth import DepthModel
from scanner.domain import Address

# A position liquidated again and again at one price stops after this many calls: Aave's
# half-closes converge geometrically, and 64 halvings leave less than one base unit.
MAX_CALLS_PER_PRICE = 64


@dataclass(frozen=True)
class SoldCollateral:
    """One collateral asset leaving a position to be sold on the market."""

    asset: Address  # the token's address ("" when the protocol knows it by symbol only)
    symbol: str
    decimals: int
    amount_raw: int  # token base units sold on the market
    usd_8dec: int  # its value at the oracle price of the liquidation
    on_axis: bool  # its price moves with the axis: selling it moves the axis


@dataclass(frozen=True)
class LiquidationSale:
    sold: tuple[SoldCollateral, ...]
    debt_repaid_usd_8dec: int
    bad_debt_usd_8dec: int  # debt left behind with no collateral to cover it
    calls: int  # liquidation transactions (Aave: one per collateral/debt pair per call)
    after: Any | None  # the protocol's curve of what is left; None: closed or nothing to seize
    # the debt assets the liquidator bought to repay (a short's debt on the axis: buying it
    # moves the axis up)
    repaid: tuple[SoldCollateral, ...] = ()
    # the protocol state this liquidation used up (the protocol's `LEDGER`), as it leaves it:
    # None when the protocol shares nothing between positions
    ledger_after: Any | None = None
    # debt moved to other positions rather than repaid (Liquity's redistribution)
    debt_redistributed_usd_8dec: int = 0
    # what a protocol selling seized collateral at a discount gives up: the collateral's
    # oracle value minus what its buyer paid (Compound v3's store front)
    store_discount_usd_8dec: int = 0

    @property
    def sold_usd_8dec(self) -> int:
        return sum(s.usd_8dec for s in self.sold)


SaleFunction = Callable[[Any, int], LiquidationSale | None]


@dataclass(frozen=True)
class Ledger:
    """Protocol state the positions of one market draw on, used up by each liquidation of a
    cascade (Maker's Hole/hole room, Liquity's Stability Pool and system totals). A protocol
    that has one exposes `LEDGER` next to its `liquidation_sale`; the engine keeps one state
    per (market, `key(curve)`), starts it from the scan block (`read(curve)`), hands every
    liquidation a curve bound to the current state (`bind(curve, state)`), keeps the
    sale's `ledger_after`, and at the end of every round replaces the state by
    `settle(state)` when the protocol gives one (what happens between two rounds: Maker's
    auctions of the round are taken and give their room back). A protocol whose seized
    collateral is sold by a buyer who resells it on the market (Compound v3's store front)
    also gets the cascade's depth model (`resell(curve, depth)`), so the buyer can stop where
    reselling no longer pays."""

    key: Callable[[Any], Hashable]
    read: Callable[[Any], Any]
    bind: Callable[[Any, Any], Any]
    resell: Callable[[Any, DepthModel], Any] | None = None
    settle: Callable[[Any], Any] | None = None


def merge_sold(sold: list[SoldCollateral]) -> tuple[SoldCollateral, ...]:
    """One entry per asset (amounts and values summed), in first-seen order."""
    by_asset: dict[tuple[Address, str], SoldCollateral] = {}
    for s in sold:
        key = (s.asset, s.symbol)
        prev = by_asset.get(key)
        by_asset[key] = s if prev is None else SoldCollateral(
            s.asset, s.symbol, s.decimals, prev.amount_raw + s.amount_raw,
            prev.usd_8dec + s.usd_8dec, s.on_axis)
    return tuple(by_asset.values())


def sale_function(protocol: str) -> SaleFunction:
    """The `liquidation_sale` of protocol `protocol` (a key of scanner.protocols.PROTOCOLS)."""
    from scanner.protocols import PROTOCOLS

    module = importlib.import_module(f"{PROTOCOLS[protocol]}.liquidation_sale")
    function: SaleFunction = module.liquidation_sale
    return function


def ledger_of(protocol: str) -> Ledger | None:
    """The protocol's `LEDGER` when its liquidations use up shared state, else None."""
    from scanner.protocols import PROTOCOLS

    module = importlib.import_module(f"{PROTOCOLS[protocol]}.liquidation_sale")
    ledger = getattr(module, "LEDGER", None)
    return ledger if isinstance(ledger, Ledger) else None
