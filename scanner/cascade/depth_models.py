"""The three DepthModels: on-chain Uniswap v3 pools, an external square-root market, both.

- `UniswapDepth` sells along a configured route of pools ending in a USD stablecoin (valued at
  $1), walking each pool's ticks exactly as its swap would; it also buys (the route the other
  way), so a rise through a pools-only model moves the price as shorts' liquidators buy.
  The hop into the stablecoin is first moved to the asked price (arbitrage would take it
  there); earlier hops, ratio pools such as wstETH/WETH, keep their scan-block price, since
  an axis move scales its members alike.
- `SqrtImpactDepth` is the volume on-chain pools do not show (CEX books): the square-root law
      price_after = price * (1 - 1% * sqrt(notional_usd / depth_usd))
  where `depth_usd` is the notional that moves the price 1%. The seller receives the integral
  of that marginal price: proceeds = notional * (1 - 2/3 * impact). At impact 100% the book
  is empty: price 0, and nothing more is received. A buy is the mirror image (the same book
  depth on the ask side): price_after = price * (1 + impact), and the buyer pays
  notional * (1 + 2/3 * impact); the ask side never empties (a price can rise without bound).
- `CombinedDepth` splits each sale (or buy) between the two so that both venues end at the same
  price (arbitrage would equalize them anyway): bisection on the share sent through the pools.

Each also sells a round's axis members together (`sell_basket`, what the cascade engine calls):
through shared pool states, or the reference's one external book -- scanner/cascade/basket.py.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scanner.cascade.basket import ONE_PERCENT, pool_basket, sqrt_basket, sqrt_sale, unknown_asset
from scanner.cascade.depth import BasketResult, DepthModel, SaleResult
from scanner.cascade.uniswap_v3 import (
    OutsideReadWindowError,
    PoolState,
    human_price,
    moved_to,
    sqrt_x96_for,
    swap_exact_input,
)
from scanner.domain import Address

SPLIT_ITERATIONS = 40
MAX_BUY_INPUT_RAW = 2**200  # more than any token's supply: the buy cannot be filled
_unknown = unknown_asset


@dataclass(frozen=True)
class SqrtImpactDepth:
    depth_usd: Mapping[Address, float]  # notional that moves the price 1%
    decimals: Mapping[Address, int]

    def sell(self, asset: Address, amount_raw: int, price_usd: float) -> SaleResult:
        if asset not in self.depth_usd:
            raise _unknown(asset, "external")
        notional_usd = amount_raw / 10 ** self.decimals[asset] * price_usd
        proceeds_usd, impact = sqrt_sale(notional_usd, self.depth_usd[asset])
        return SaleResult(proceeds_usd, price_usd * (1 - impact))

    def sell_basket(self, amounts_raw: Mapping[Address, int], prices_usd: Mapping[Address, float],
                    reference: Address) -> BasketResult:
        """Every member through its book against the reference, then all through the
        reference's one book (scanner/cascade/basket.py)."""
        return sqrt_basket(self.depth_usd, self.decimals, amounts_raw, prices_usd, reference)

    def buy(self, asset: Address, amount_raw: int, price_usd: float) -> SaleResult:
        """The mirror of `sell`: `proceeds_usd` is what the buy costs, the price rises by the
        same square-root impact."""
        if asset not in self.depth_usd:
            raise _unknown(asset, "external")
        notional_usd = amount_raw / 10 ** self.decimals[asset] * price_usd
        impact = ONE_PERCENT * math.sqrt(notional_usd / self.depth_usd[asset])
        return SaleResult(notional_usd * (1 + 2 / 3 * impact), price_usd * (1 + impact))


@dataclass(frozen=True)
class UniswapDepth:
    routes: Mapping[Address, tuple[PoolState, ...]]
    stable_decimals: Mapping[Address, int]  # the route's last token, valued at $1

    def sell(self, asset: Address, amount_raw: int, price_usd: float) -> SaleResult:
        """`asset` alone, its own route positioned at `price_usd`: a basket of one."""
        basket = self.sell_basket({asset: amount_raw}, {asset: price_usd}, asset)
        return SaleResult(basket.proceeds_usd.get(asset, 0.0), basket.reference_price_after_usd)

    def sell_basket(self, amounts_raw: Mapping[Address, int], prices_usd: Mapping[Address, float],
                    reference: Address) -> BasketResult:
        """All of it through shared pool states (scanner/cascade/basket.py)."""
        return pool_basket(self.routes, self.stable_decimals, amounts_raw, prices_usd, reference)

    def buy(self, asset: Address, amount_raw: int, price_usd: float) -> SaleResult:
        """Buy exactly `amount_raw` of `asset` with the route's stablecoin (a short's
        liquidator buying the debt it repays): the route walked the other way, the least
        stablecoin input that yields `amount_raw` found by bisection (a swap's output grows
        with its input). `proceeds_usd` is what the buy costs; the price after is the asset's,
        read as `sell` reads it (>= `price_usd`)."""
        route = self.routes.get(asset)
        if not route:
            raise _unknown(asset, "Uniswap v3")
        pools = self._positioned(route, asset, price_usd)
        low_raw, high_raw = 0, 1
        while self._bought(pools, asset, high_raw)[0] < amount_raw:  # past the window: raises
            if high_raw > MAX_BUY_INPUT_RAW:  # a window reaching the last tick, still short
                raise OutsideReadWindowError(f"the pools of {asset} cannot supply {amount_raw}")
            low_raw, high_raw = high_raw, high_raw * 2
        while high_raw - low_raw > 1:
            middle_raw = (low_raw + high_raw) // 2
            if self._bought(pools, asset, middle_raw)[0] >= amount_raw:
                high_raw = middle_raw
            else:
                low_raw = middle_raw
        _, price_after_usd = self._bought(pools, asset, high_raw)
        stable = _route_tokens(pools, asset)[-1]
        return SaleResult(high_raw / 10 ** self.stable_decimals[stable], price_after_usd)

    @staticmethod
    def _bought(pools: list[PoolState], asset: Address, stable_in_raw: int
                ) -> tuple[int, float]:
        """(`asset` received, its USD price after) for `stable_in_raw` sent up the route."""
        tokens = _route_tokens(pools, asset)
        amount, afters = stable_in_raw, [pool.sqrt_x96 for pool in pools]
        for i in reversed(range(len(pools))):
            if amount > 0:
                result = swap_exact_input(pools[i], tokens[i + 1] == pools[i].token0, amount)
                amount, afters[i] = result.amount_out_raw, result.sqrt_after_x96
        price_after_usd = 1.0
        for i, pool in enumerate(pools):
            price_after_usd *= human_price(pool, tokens[i], afters[i])
        return amount, price_after_usd

    def _positioned(self, route: tuple[PoolState, ...], asset: Address,
                    price_usd: float) -> list[PoolState]:
        """The route with its last hop moved so that `asset` is worth `price_usd`."""
        token, ratio = asset, 1.0
        for pool in route[:-1]:
            ratio *= human_price(pool, token, pool.sqrt_x96)
            token = pool.token1 if token == pool.token0 else pool.token0
        last = route[-1]
        return [*route[:-1], moved_to(last, sqrt_x96_for(last, token, price_usd / ratio))]


def _route_tokens(pools: list[PoolState], asset: Address) -> list[Address]:
    """The tokens along a route from `asset`: [asset, ..., the stablecoin]."""
    tokens = [asset]
    for pool in pools:
        tokens.append(pool.token1 if tokens[-1] == pool.token0 else pool.token0)
    return tokens


@dataclass(frozen=True)
class CombinedDepth:
    pools: UniswapDepth
    external: SqrtImpactDepth

    def sell(self, asset: Address, amount_raw: int, price_usd: float) -> SaleResult:
        has_pools = asset in self.pools.routes
        has_external = asset in self.external.depth_usd
        if not has_pools and not has_external:
            raise _unknown(asset, "pool or external")
        if not has_external:
            return self.pools.sell(asset, amount_raw, price_usd)
        if not has_pools or amount_raw == 0:
            return self.external.sell(asset, amount_raw, price_usd)
        share_raw = self._pool_share(asset, amount_raw, price_usd)
        on_pools = self.pools.sell(asset, share_raw, price_usd)
        outside = self.external.sell(asset, amount_raw - share_raw, price_usd)
        return SaleResult(on_pools.proceeds_usd + outside.proceeds_usd,
                          min(on_pools.price_after_usd, outside.price_after_usd))

    def sell_basket(self, amounts_raw: Mapping[Address, int], prices_usd: Mapping[Address, float],
                    reference: Address) -> BasketResult:
        """One share of every asset both venues price through the pools, the rest through
        the external books: the largest share at which the reference's price on the pools ends
        no lower than on the external book (arbitrage equalizes them); an asset one venue
        lacks goes wholly to the other, and so does everything if it lacks the reference."""
        unknown = [a for a, raw in amounts_raw.items() if raw > 0 and a not in self.pools.routes
                   and a not in self.external.depth_usd]
        if unknown:
            raise _unknown(unknown[0], "pool or external")
        if reference not in self.external.depth_usd:
            return self.pools.sell_basket(amounts_raw, prices_usd, reference)
        if reference not in self.pools.routes:
            return self.external.sell_basket(amounts_raw, prices_usd, reference)
        split = _BasketSplit(self, amounts_raw, prices_usd, reference)
        low, high = 0, SPLIT_SCALE
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if split.pools_behind(middle) else (low, middle)
        return split.result(high if split.pools_behind(high) else low)

    def buy(self, asset: Address, amount_raw: int, price_usd: float) -> SaleResult:
        """The buy split as the sale is: both venues end at one (higher) price."""
        has_pools = asset in self.pools.routes
        has_external = asset in self.external.depth_usd
        if not has_pools and not has_external:
            raise _unknown(asset, "pool or external")
        if not has_external:
            return self.pools.buy(asset, amount_raw, price_usd)
        if not has_pools or amount_raw == 0:
            return self.external.buy(asset, amount_raw, price_usd)
        share_raw = self._pool_share(asset, amount_raw, price_usd, buying=True)
        on_pools = self.pools.buy(asset, share_raw, price_usd)
        outside = self.external.buy(asset, amount_raw - share_raw, price_usd)
        return SaleResult(on_pools.proceeds_usd + outside.proceeds_usd,
                          max(on_pools.price_after_usd, outside.price_after_usd))

    def _pool_share(self, asset: Address, amount_raw: int, price_usd: float,
                    buying: bool = False) -> int:
        """Largest pool share whose price after moves no further than the external venue's
        (stays at or above it for a sale, at or below it for a buy)."""
        low, high = 0, amount_raw
        for _ in range(SPLIT_ITERATIONS):
            if high - low <= 1:
                break
            middle = (low + high) // 2
            if self._pools_behind(asset, middle, amount_raw - middle, price_usd, buying):
                low = middle
            else:
                high = middle
        return high if self._pools_behind(asset, high, amount_raw - high, price_usd,
                                          buying) else low

    def _pools_behind(self, asset: Address, on_pools_raw: int, outside_raw: int,
                      price_usd: float, buying: bool) -> bool:
        try:
            if buying:
                pool_price = self.pools.buy(asset, on_pools_raw, price_usd).price_after_usd
                return pool_price <= self.external.buy(asset, outside_raw,
                                                       price_usd).price_after_usd
            pool_price = self.pools.sell(asset, on_pools_raw, price_usd).price_after_usd
        except OutsideReadWindowError:
            return False  # more than the pools hold within the window read
        return pool_price >= self.external.sell(asset, outside_raw, price_usd).price_after_usd


SPLIT_SCALE = 2**SPLIT_ITERATIONS  # the pools' share of a basket, in 1/2**40ths


@dataclass(frozen=True)
class _BasketSplit:
    """A basket cut into what goes through the pools and what goes outside."""

    model: CombinedDepth
    amounts_raw: Mapping[Address, int]
    prices_usd: Mapping[Address, float]
    reference: Address

    def parts(self, share: int) -> tuple[dict[Address, int], dict[Address, int]]:
        on_pools: dict[Address, int] = {}
        outside: dict[Address, int] = {}
        for asset, raw in self.amounts_raw.items():
            if asset not in self.model.external.depth_usd:
                on_pools[asset] = raw
            elif asset not in self.model.pools.routes:
                outside[asset] = raw
            else:
                on_pools[asset] = raw * share // SPLIT_SCALE
                outside[asset] = raw - on_pools[asset]
        return on_pools, outside

    def sold(self, share: int) -> tuple[BasketResult, BasketResult]:
        on_pools, outside = self.parts(share)
        return (self.model.pools.sell_basket(on_pools, self.prices_usd, self.reference),
                self.model.external.sell_basket(outside, self.prices_usd, self.reference))

    def pools_behind(self, share: int) -> bool:
        try:
            pools, external = self.sold(share)
        except OutsideReadWindowError:
            return False  # more than the pools hold within the window read
        return pools.reference_price_after_usd >= external.reference_price_after_usd

    def result(self, share: int) -> BasketResult:
        pools, external = self.sold(share)
        proceeds = dict(pools.proceeds_usd)
        for asset, usd in external.proceeds_usd.items():
            proceeds[asset] = proceeds.get(asset, 0.0) + usd
        return BasketResult(min(pools.reference_price_after_usd,
                                external.reference_price_after_usd), proceeds)


if TYPE_CHECKING:  # each model satisfies the interface the cascade engine calls
    _models: tuple[DepthModel, ...] = (
        SqrtImpactDepth({}, {}), UniswapDepth({}, {}),
        CombinedDepth(UniswapDepth({}, {}), SqrtImpactDepth({}, {})))
