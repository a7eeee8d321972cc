"""Resolve a market's contracts, naming the config key when the address is not the protocol.

An address that holds some other contract answers the protocol's first call (Aave's
`getPool()`, a Comet's `baseToken()`, Morpho's `DOMAIN_SEPARATOR()`) with a revert, with bytes
that do not decode, or with a value the protocol cannot have; on its own that reads "execution
reverted". Here it becomes a config error naming the key, the market and the address.
"""

from __future__ import annotations

from typing import Any

from scanner.config import Config, MarketConfig
from scanner.errors import ConfigError, InconsistentDataError
from scanner.pipeline.discovery import identity_key, market_path
from scanner.protocols.base import NotTheProtocolError, ProtocolAdapter


async def resolve_market(
    adapter: ProtocolAdapter, config: Config, market: MarketConfig, block: int
) -> Any:
    try:
        return await adapter.resolve(block)
    except InconsistentDataError as exc:  # ConfigError (no code, ...) passes through as is
        key = exc.key if isinstance(exc, NotTheProtocolError) else identity_key(market)
        reason = exc.message.split(":")[0][:80]
        raise ConfigError(
            f"{market_path(config, market)}.{key} {market.address(key)} (market "
            f"{market.key!r}) is a contract but not a {market.protocol} {key} at block "
            f"{block} ({reason}): check the address"
        ) from exc
