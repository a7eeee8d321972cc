"""Move the devnet's oracle prices: what AaveOracle.getAssetPrice returns (and therefore every
Morpho oracle that reads the AaveOracle).

The feeds are @aave/core-v3 MockAggregators, which have no setter. Their only storage variable,
`int256 _latestAnswer`, sits in slot 0, so we write that slot with `anvil_setStorageAt`, check
`latestAnswer()` and `getAssetPrice()` read the new value back. anvil_setStorageAt edits the
state of the current head block in place, so we mine an empty block first (freezing the head's
state: reads pinned to it keep the old price) and one after (the first block fully at the new
price, which `set_prices` returns).
"""

from __future__ import annotations

from collections.abc import Mapping

from eth_abi.abi import decode

from scanner.devnet.aave import AaveDeployment
from scanner.devnet.rpc import DevnetRpc, calldata
from scanner.errors import ConfigError, InconsistentDataError

ANSWER_SLOT = "0x0"  # MockAggregator._latestAnswer
MAX_PRICE_8DEC = 2**255 - 1  # int256


def _aggregator(aave: AaveDeployment, symbol: str) -> str:
    if symbol not in aave.aggregators:
        known = ", ".join(aave.aggregators)
        raise ConfigError(f"no price feed for {symbol!r} on the devnet (known: {known})")
    return aave.aggregators[symbol]


def get_price_usd_8dec(rpc: DevnetRpc, aave: AaveDeployment, symbol: str,
                       block: int | str = "latest") -> int:
    """AaveOracle.getAssetPrice(token) at `block`, USD with 8 decimals."""
    _aggregator(aave, symbol)
    raw = rpc.eth_call(aave.oracle, calldata("getAssetPrice(address)", aave.tokens[symbol]), block)
    (price_8dec,) = decode(["uint256"], raw)
    return int(price_8dec)


def set_prices(rpc: DevnetRpc, aave: AaveDeployment, prices_8dec: Mapping[str, int]) -> int:
    """Set several oracle prices at once; return the block from which they apply."""
    writes = []
    for symbol, price_8dec in prices_8dec.items():
        if not 0 < price_8dec <= MAX_PRICE_8DEC:
            raise ConfigError(f"price of {symbol} must be > 0 (8 decimals), got {price_8dec}")
        value = "0x" + price_8dec.to_bytes(32, "big").hex()
        writes.append(("anvil_setStorageAt", [_aggregator(aave, symbol), ANSWER_SLOT, value]))
    if not writes:
        return rpc.block_number()
    rpc.mine()
    rpc.batch(writes)
    rpc.mine()
    block = rpc.block_number()
    for symbol, price_8dec in prices_8dec.items():
        _check_price(rpc, aave, symbol, price_8dec, block)
    return block


def set_price_usd_8dec(rpc: DevnetRpc, aave: AaveDeployment, symbol: str, price_8dec: int) -> int:
    """Set one oracle price; return the block from which it applies."""
    return set_prices(rpc, aave, {symbol: price_8dec})


def _check_price(rpc: DevnetRpc, aave: AaveDeployment, symbol: str, expected_8dec: int,
                 block: int) -> None:
    raw = rpc.eth_call(aave.aggregators[symbol], calldata("latestAnswer()"), block)
    (answer,) = decode(["int256"], raw)
    oracle_8dec = get_price_usd_8dec(rpc, aave, symbol, block)
    if answer != expected_8dec or oracle_8dec != expected_8dec:
        raise InconsistentDataError(
            f"price of {symbol}: wrote {expected_8dec}, feed says {answer}, AaveOracle says "
            f"{oracle_8dec}: is the feed still a MockAggregator (storage slot 0)?"
        )
