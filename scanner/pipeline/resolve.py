"""Resolve a market's contracts, naming the config key when the address is not the protocol.

A PoolAddressesProvider address that holds some other contract answers `getPool()` with a
revert or with bytes that do not decode; on its own that reads "execution reverted". Here it
becomes a config error naming the key, the market and the address.
"""

from __future__ import annotations

from scanner.config import Config, MarketConfig
from scanner.errors import ConfigError, InconsistentDataError
from scanner.pipeline.discovery import market_path
from scanner.protocols.aave_v3 import AaveAddresses, AaveV3Adapter


async def resolve_market(
    adapter: AaveV3Adapter, config: Config, market: MarketConfig, block: int
) -> AaveAddresses:
    try:
        return await adapter.resolve(block)
    except InconsistentDataError as exc:  # ConfigError (no code, ...) passes through as is
        reason = exc.message.split(":")[0][:80]
        raise ConfigError(
            f"{market_path(config, market)}.pool_addresses_provider "
            f"{market.pool_addresses_provider} (market {market.key!r}) is a contract but not "
            f"a {market.protocol} PoolAddressesProvider at block {block} ({reason}): "
            "check the address"
        ) from exc
