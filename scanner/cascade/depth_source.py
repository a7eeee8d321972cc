"""Which DepthModel `liqscan cascade` sells through (filled in with the depth branch)."""

from __future__ import annotations

from scanner.cascade.depth import DepthModel
from scanner.chain.rpc import RpcClient
from scanner.config import ChainConfig, Config
from scanner.errors import ConfigError


async def build_depth(config: Config, chain: ChainConfig, rpc: RpcClient, block: int
                      ) -> DepthModel:
    raise ConfigError("no market depth is configured for cascades")
