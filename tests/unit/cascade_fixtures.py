"""Hand-computable cascade fixtures: a linear-impact market and small positions.

`LinearDepth` is a deterministic market model (not a mock of any node): selling q whole tokens
at price p moves the price to p * (1 - k q) and pays the average, p q (1 - k q / 2).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from scanner.cascade.depth import SaleResult


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


@dataclass
class LinearBuyingDepth(LinearDepth):
    """The same market, which also prices buys: buying q tokens moves p to p (1 + k q)."""

    def buy(self, asset: str, amount_raw: int, price_usd: float) -> SaleResult:
        tokens = amount_raw / 10**self.decimals
        rise = self.impact_per_token * tokens
        return SaleResult(price_usd * tokens * (1 + rise / 2), price_usd * (1 + rise))
