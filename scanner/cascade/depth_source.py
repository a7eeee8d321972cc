"""Which DepthModel `liqscan cascade` sells through: the config's `[cascade.depth]`
(scanner/cascade/depth_config.py), built at the snapshot's block on the snapshot's chain."""

from __future__ import annotations

from scanner.cascade.depth import DepthModel
from scanner.cascade.depth_build import build_depth_model
from scanner.chain.rpc import RpcClient
from scanner.config import ChainConfig, Config
from scanner.errors import ConfigError


async def build_depth(config: Config, chain: ChainConfig, rpc: RpcClient, block: int
                      ) -> DepthModel:
    depth = config.cascade_depth
    if depth is None:
        raise ConfigError(f"{config.source.name}: no [cascade.depth]: add it to say which market "
                          "depth a cascade sells through (README \"Market depth\")")
    if depth.model != "external" and depth.chain not in (None, chain.name):
        raise ConfigError(f"{config.source.name}: cascade.depth.chain is {depth.chain!r}, but "
                          f"the snapshot is of chain {chain.name!r}")
    return await build_depth_model(depth, rpc, block, chain.multicall_address)


def describe_depth(config: Config) -> str:
    """The model and what it is fed, for the output and the stored row."""
    depth = config.cascade_depth
    if depth is None:
        return "none"
    parts = []
    for asset in depth.assets:
        bits = [f"{len(asset.pools)} pool(s)"] if asset.pools else []
        if asset.external_depth_usd is not None and depth.model != "uniswap":
            bits.append(f"external ${asset.external_depth_usd:,.0f}/1%")
        parts.append(f"{asset.symbol}: {', '.join(bits) or 'none'}")
    return f"{depth.model} ({'; '.join(parts)})"
