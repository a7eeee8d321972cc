"""Hand-computable cascade fixtures: a linear-impact market and small positions.

`LinearDepth` is a deterministic market model (not a mock of any node): selling q whole tokens
at price p moves the price to p * (1 - k q) and pays the average, p q (1 - k q / 2). A basket
is one market in reference-equivalent tokens: q = sum of q_i p_i / p_ref, the reference's
price goes to p_ref (1 - k q), and every asset is paid p_i q_i (1 - k q / 2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from scanner.cascade.depth import BasketResult, SaleResult


@dataclass
class LinearDepth:
    impact_per_token: float  # k: relative price drop per whole token sold
    decimals: int = 18
    sales: list[tuple[str, int, float]] = field(default_factory=list)

    def sell(self, asset: str, amount_raw: int, price_usd: float) -> SaleResult:
        self.sales.append((asset, amount_raw, price_usd))
        tokens = amount_raw / 10**self.decimals
        drop = min(self.impact_per_token * tokens, 1.0)
        return SaleResult(price_usd * tokens * (1 - drop / 2), price_usd * (1 - drop))

    def sell_basket(self, amounts_raw: Mapping[str, int], prices_usd: Mapping[str, float],
                    reference: str) -> BasketResult:
        for asset, amount_raw in amounts_raw.items():
            self.sales.append((asset, amount_raw, prices_usd[asset]))
        tokens = sum(raw / 10**self.decimals * prices_usd[asset] / prices_usd[reference]
                     for asset, raw in amounts_raw.items())
        drop = min(self.impact_per_token * tokens, 1.0)
        return BasketResult(prices_usd[reference] * (1 - drop), {
            asset: prices_usd[asset] * raw / 10**self.decimals * (1 - drop / 2)
            for asset, raw in amounts_raw.items()})


@dataclass
class LinearBuyingDepth(LinearDepth):
    """The same market, which also prices buys: buying q tokens moves p to p (1 + k q)."""

    def buy(self, asset: str, amount_raw: int, price_usd: float) -> SaleResult:
        tokens = amount_raw / 10**self.decimals
        rise = self.impact_per_token * tokens
        return SaleResult(price_usd * tokens * (1 + rise / 2), price_usd * (1 + rise))
