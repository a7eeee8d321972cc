"""Selling a round's axis members together, through shared market states (`sell_basket`).

Pools (`PoolBasket`): every route is positioned once, before any swap -- the axis reference's
route first (its hop into the stablecoin moved so that the reference is worth its start price,
as arbitrage leaves it after the shock), then each sold asset's; a pool already positioned
keeps its state, so an LST's route ending in WETH/USDC shares the reference's WETH/USDC and its
own ratio pool (wstETH/WETH) keeps its scan-block price. Then each asset is swapped along its
route through the pools as the sales before it left them, in `basket_order`: every other member
first (address order), then the reference -- the order a liquidator's router produces, since an
LST has to become WETH before that WETH is sold. Within one pool, swaps in one direction end at
the price their total input sets (up to each swap step's rounding, a few wei), so the order
decides how the proceeds split between assets, not the axis price. The axis moves with the
reference's price on its own route after it all; an LST's ratio pool moves the LST's market
price, not the axis.

External book (`sqrt_basket`): a member other than the reference first crosses its own book
against the reference (its `depth_usd`: the notional that moves its ratio 1%), raising what that
square-root book pays; that, in reference-equivalent USD, joins the reference sold through the
reference's one book: impact = 1% * sqrt(total / depth_usd[reference]). Every asset's share is
paid that book's average price.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace

from scanner.cascade.depth import BasketResult
from scanner.cascade.uniswap_v3 import (
    PoolState,
    human_price,
    moved_to,
    sqrt_x96_for,
    swap_exact_input,
)
from scanner.domain import Address
from scanner.errors import ConfigError

ONE_PERCENT = 0.01


def unknown_asset(asset: Address, model: str) -> ConfigError:
    return ConfigError(f"no {model} depth for asset {asset}: add it to [cascade.depth.assets]")


def basket_order(amounts_raw: Mapping[Address, int], reference: Address) -> list[Address]:
    """The assets sold, in the order they are sold: the other members, then the reference."""
    others = sorted(a for a, raw in amounts_raw.items() if raw > 0 and a != reference)
    return others + ([reference] if amounts_raw.get(reference, 0) > 0 else [])


def _other(pool: PoolState, token: Address) -> Address:
    return pool.token1 if token == pool.token0 else pool.token0


class PoolBasket:
    """The pools of every route, as the basket's positioning and swaps leave them."""

    def __init__(self, routes: Mapping[Address, tuple[PoolState, ...]]) -> None:
        self.routes = routes
        self.states: dict[Address, PoolState] = {}  # by pool address, once touched

    def route(self, asset: Address) -> list[PoolState]:
        route = self.routes.get(asset)
        if not route:
            raise unknown_asset(asset, "Uniswap v3")
        return [self.states.get(pool.address, pool) for pool in route]

    def position(self, asset: Address, price_usd: float) -> None:
        """Move the route's last hop so that `asset` is worth `price_usd`, unless an earlier
        route positioned that pool already (one pool has one price)."""
        pools, token, ratio = self.route(asset), asset, 1.0
        for pool in pools[:-1]:
            ratio *= human_price(pool, token, pool.sqrt_x96)
            token = _other(pool, token)
        last = pools[-1]
        if last.address not in self.states:
            self.states[last.address] = moved_to(last, sqrt_x96_for(last, token, price_usd / ratio))

    def sell(self, asset: Address, amount_raw: int) -> tuple[int, Address]:
        """Swap `amount_raw` of `asset` hop by hop: (the stablecoin received, the stablecoin)."""
        token = asset
        for pool in self.route(asset):
            zero_for_one = token == pool.token0
            if amount_raw > 0:
                swap = swap_exact_input(pool, zero_for_one, amount_raw)
                amount_raw = swap.amount_out_raw
                self.states[pool.address] = replace(
                    pool, sqrt_x96=swap.sqrt_after_x96, tick=swap.tick_after,
                    liquidity=swap.liquidity_after)
            token = _other(pool, token)
        return amount_raw, token

    def price_usd(self, asset: Address) -> float:
        """`asset`'s price along its route, in the stablecoin, as the pools are now."""
        token, price = asset, 1.0
        for pool in self.route(asset):
            price *= human_price(pool, token, pool.sqrt_x96)
            token = _other(pool, token)
        return price


def pool_basket(routes: Mapping[Address, tuple[PoolState, ...]],
                stable_decimals: Mapping[Address, int], amounts_raw: Mapping[Address, int],
                prices_usd: Mapping[Address, float], reference: Address) -> BasketResult:
    pools = PoolBasket(routes)
    order = basket_order(amounts_raw, reference)
    for asset in [reference, *order]:
        pools.position(asset, prices_usd[asset])
    proceeds: dict[Address, float] = {}
    for asset in order:
        out_raw, stable = pools.sell(asset, amounts_raw[asset])
        proceeds[asset] = out_raw / 10 ** stable_decimals[stable]
    return BasketResult(pools.price_usd(reference), proceeds)


def sqrt_sale(notional_usd: float, depth_usd: float) -> tuple[float, float]:
    """(proceeds, impact) of `notional_usd` sold into a square-root book; at impact 100% the
    book is empty and pays no more."""
    saturation_usd = depth_usd / ONE_PERCENT**2
    if notional_usd >= saturation_usd:
        return saturation_usd / 3, 1.0
    impact = ONE_PERCENT * math.sqrt(notional_usd / depth_usd)
    return notional_usd * (1 - 2 / 3 * impact), impact


def sqrt_basket(depth_usd: Mapping[Address, float], decimals: Mapping[Address, int],
                amounts_raw: Mapping[Address, int], prices_usd: Mapping[Address, float],
                reference: Address) -> BasketResult:
    if reference not in depth_usd:
        raise unknown_asset(reference, "external")
    converted_usd: dict[Address, float] = {}  # what each asset brings to the reference's book
    for asset in basket_order(amounts_raw, reference):
        if asset not in depth_usd:
            raise unknown_asset(asset, "external")
        notional_usd = amounts_raw[asset] / 10 ** decimals[asset] * prices_usd[asset]
        converted_usd[asset] = (notional_usd if asset == reference
                                else sqrt_sale(notional_usd, depth_usd[asset])[0])
    total_usd = sum(converted_usd.values())
    paid_usd, impact = sqrt_sale(total_usd, depth_usd[reference])
    average = paid_usd / total_usd if total_usd > 0 else 1.0
    return BasketResult(prices_usd[reference] * (1 - impact),
                        {asset: usd * average for asset, usd in converted_usd.items()})
