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
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scanner.cascade.depth import DepthModel, SaleResult
from scanner.cascade.uniswap_v3 import (
    OutsideReadWindowError,
    PoolState,
    moved_to,
    swap_exact_input,
)
from scanner.cascade.v3math import MAX_SQRT_X96, MIN_SQRT_X96, Q96
from scanner.domain import Address
from scanner.errors import ConfigError

ONE_PERCENT = 0.01
SPLIT_ITERATIONS = 40
MAX_BUY_INPUT_RAW = 2**200  # more than any token's supply: the buy cannot be filled


def _unknown(asset: Address, model: str) -> ConfigError:
    return ConfigError(f"no {model} depth for asset {asset}: add it to [cascade.depth.assets]")


@dataclass(frozen=True)
class SqrtImpactDepth:
    depth_usd: Mapping[Address, float]  # notional that moves the price 1%
    decimals: Mapping[Address, int]

    def sell(self, asset: Address, amount_raw: int, price_usd: float) -> SaleResult:
        if asset not in self.depth_usd:
            raise _unknown(asset, "external")
        notional_usd = amount_raw / 10 ** self.decimals[asset] * price_usd
        saturation_usd = self.depth_usd[asset] / ONE_PERCENT**2  # where impact reaches 100%
        if notional_usd >= saturation_usd:
            return SaleResult(saturation_usd / 3, 0.0)
        impact = ONE_PERCENT * math.sqrt(notional_usd / self.depth_usd[asset])
        return SaleResult(notional_usd * (1 - 2 / 3 * impact), price_usd * (1 - impact))

    def buy(self, asset: Address, amount_raw: int, price_usd: float) -> SaleResult:
        """The mirror of `sell`: `proceeds_usd` is what the buy costs, the price rises by the
        same square-root impact."""
        if asset not in self.depth_usd:
            raise _unknown(asset, "external")
        notional_usd = amount_raw / 10 ** self.decimals[asset] * price_usd
        impact = ONE_PERCENT * math.sqrt(notional_usd / self.depth_usd[asset])
        return SaleResult(notional_usd * (1 + 2 / 3 * impact), price_usd * (1 + impact))


def human_price(pool: PoolState, token_in: Address, sqrt_x96: int) -> float:
    """Units of the other token one whole `token_in` buys at `sqrt_x96`."""
    raw = (sqrt_x96 / Q96) ** 2  # token1 base units per token0 base unit
    if token_in == pool.token0:
        return raw * 10.0 ** (pool.decimals0 - pool.decimals1)
    return 10.0 ** (pool.decimals1 - pool.decimals0) / raw


def sqrt_x96_for(pool: PoolState, token_in: Address, price: float) -> int:
    """The sqrt price at which one whole `token_in` buys `price` of the other token."""
    if token_in == pool.token0:
        raw = price * 10.0 ** (pool.decimals1 - pool.decimals0)
    else:
        raw = 10.0 ** (pool.decimals1 - pool.decimals0) / price
    return max(MIN_SQRT_X96 + 1, min(MAX_SQRT_X96 - 1, int(math.sqrt(raw) * Q96)))


@dataclass(frozen=True)
class UniswapDepth:
    routes: Mapping[Address, tuple[PoolState, ...]]
    stable_decimals: Mapping[Address, int]  # the route's last token, valued at $1

    def sell(self, asset: Address, amount_raw: int, price_usd: float) -> SaleResult:
        route = self.routes.get(asset)
        if not route:
            raise _unknown(asset, "Uniswap v3")
        pools, token = self._positioned(route, asset, price_usd), asset
        price_after_usd, amount = 1.0, amount_raw
        for pool in pools:
            zero_for_one = token == pool.token0
            if amount > 0:
                result = swap_exact_input(pool, zero_for_one, amount)
                amount, sqrt_after = result.amount_out_raw, result.sqrt_after_x96
            else:
                sqrt_after = pool.sqrt_x96
            price_after_usd *= human_price(pool, token, sqrt_after)
            token = pool.token1 if zero_for_one else pool.token0
        return SaleResult(amount / 10 ** self.stable_decimals[token], price_after_usd)

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


if TYPE_CHECKING:  # each model satisfies the interface the cascade engine calls
    _models: tuple[DepthModel, ...] = (
        SqrtImpactDepth({}, {}), UniswapDepth({}, {}),
        CombinedDepth(UniswapDepth({}, {}), SqrtImpactDepth({}, {})))
