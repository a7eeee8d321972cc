"""Build the configured DepthModel at a pinned block: read the pools, check the routes."""

from __future__ import annotations

from scanner.cascade.depth import DepthModel
from scanner.cascade.depth_config import AssetDepthConfig, DepthConfig
from scanner.cascade.depth_models import CombinedDepth, SqrtImpactDepth, UniswapDepth
from scanner.cascade.uniswap_read import read_pools
from scanner.cascade.uniswap_v3 import PoolState
from scanner.chain.rpc import RpcClient
from scanner.domain import Address
from scanner.errors import ConfigError


def external_depth(config: DepthConfig) -> SqrtImpactDepth:
    assets = [a for a in config.assets if a.external_depth_usd is not None]
    return SqrtImpactDepth({a.token: float(a.external_depth_usd or 0) for a in assets},
                           {a.token: a.decimals for a in config.assets})


async def build_depth_model(config: DepthConfig, rpc: RpcClient | None, block: int,
                            multicall_address: str | None = None) -> DepthModel:
    """The model `config.model` names; pools are read at `block` through `rpc`."""
    if config.model == "external":
        return external_depth(config)
    if rpc is None:
        raise ConfigError(f"cascade.depth.model = {config.model!r} reads pools: it needs the "
                          f"chain {config.chain!r} to be reachable")
    addresses = sorted({p for a in config.assets for p in a.pools})
    states = await read_pools(rpc, addresses, block, config.window_price_factor,
                              multicall_address)
    by_address = dict(zip(addresses, states, strict=True))
    routes: dict[Address, tuple[PoolState, ...]] = {}
    stable_decimals: dict[Address, int] = {}
    for asset in config.assets:
        if asset.pools:
            route = tuple(by_address[p] for p in asset.pools)
            stable, decimals = _check_route(asset, route)
            routes[asset.token], stable_decimals[stable] = route, decimals
    pools = UniswapDepth(routes, stable_decimals)
    if config.model == "uniswap":
        return pools
    return CombinedDepth(pools, external_depth(config))


def _check_route(asset: AssetDepthConfig, route: tuple[PoolState, ...]) -> tuple[Address, int]:
    """Each pool must hold the token the previous one pays out; returns the last token out."""
    token, decimals = asset.token, asset.decimals
    for i, pool in enumerate(route):
        if token not in (pool.token0, pool.token1):
            raise ConfigError(f"cascade.depth.assets.{asset.symbol}.pools[{i}]: pool "
                              f"{pool.address} does not trade {token}")
        held = pool.decimals0 if token == pool.token0 else pool.decimals1
        if i == 0 and held != decimals:
            raise ConfigError(f"cascade.depth.assets.{asset.symbol}.decimals is {decimals}, "
                              f"but the token has {held} on chain")
        token = pool.token1 if token == pool.token0 else pool.token0
        decimals = pool.decimals1 if token == pool.token1 else pool.decimals0
    return token, decimals
