"""The market-depth interface the cascade engine sells seized collateral through.

A `DepthModel` answers one question: if `amount_raw` of `asset` is sold for USD into the market
when that asset trades at `price_usd`, what does the seller receive and where is the price after?

Contract every implementation keeps:
- stateless: each call starts from the market as read at the scan block, moved to `price_usd`
  (an axis move scales every member of the axis alike, so ratio pools such as wstETH/WETH keep
  their scan-block price and only the hop into a stablecoin is moved);
  selling 2x in one call is not selling x twice -- the engine passes a round's cumulative amount;
- `asset` is the token's checksummed address, `amount_raw` its base units (wei for 18 decimals);
- `price_after_usd <= price_usd` and `0 <= proceeds_usd <= amount * price_usd`;
- an asset the model has no market for raises ConfigError (exit 78), never a zero-impact sale.

`sell_basket` is what the cascade engine calls: every axis member a round (cumulatively since
the shock) puts on the market, sold together through shared market states -- an LST's sale
ends as WETH sold into the same WETH/USDC pool the WETH collateral goes to, so the two are
not priced each from the same start. It returns the axis reference's USD price after it all,
read on the reference's own market (for the pools: its own route), and each asset's proceeds.
`prices_usd` holds each sold asset's price and the reference's at the start.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from scanner.domain import Address


@dataclass(frozen=True)
class SaleResult:
    """What one sale returned: USD received, and the asset's USD price after the sale."""

    proceeds_usd: float
    price_after_usd: float


@dataclass(frozen=True)
class BasketResult:
    """What a basket sale returned: the axis reference's USD price after, USD per asset sold."""

    reference_price_after_usd: float
    proceeds_usd: Mapping[Address, float]

    @property
    def total_proceeds_usd(self) -> float:
        return sum(self.proceeds_usd.values())


class DepthModel(Protocol):
    """Sells an amount of one asset for USD at a given starting price; buys it back the other
    way (a short's liquidator buying the debt it repays): `buy` returns the USD it costs as
    `proceeds_usd` and a `price_after_usd >= price_usd`."""

    def sell(self, asset: Address, amount_raw: int, price_usd: float) -> SaleResult: ...

    def buy(self, asset: Address, amount_raw: int, price_usd: float) -> SaleResult: ...

    def sell_basket(self, amounts_raw: Mapping[Address, int], prices_usd: Mapping[Address, float],
                    reference: Address) -> BasketResult: ...
