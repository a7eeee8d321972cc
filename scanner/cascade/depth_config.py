"""`[cascade.depth]` of config.toml: which depth model sells seized collateral, and its data.

    [cascade.depth]
    model = "combined"            # "uniswap" | "external" | "combined"
    chain = "devnet"              # the chain the pools are read on (uniswap, combined)
    window_price_factor = 4.0     # ticks read on each side of the price: up to x4 and x1/4

    [cascade.depth.assets.WETH]
    token = "0x..."               # the asset's address (what DepthModel.sell is given)
    decimals = 18                 # its decimals (checked against the chain where pools are read)
    pools = ["0x..."]             # Uniswap v3 route to a USD stablecoin, first pool first
    external_depth_usd = 50000000 # notional that moves the external price by 1% (square root)

Every error is one line naming the key, as the rest of config.toml.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from scanner.domain import Address
from scanner.eip55 import is_checksum_address, to_checksum_address
from scanner.errors import ConfigError

MODELS = ("uniswap", "external", "combined")
_ADDRESS_RE = re.compile(r"^0x[0-9a-fA-F]{40}$")
_TABLE_KEYS = ("model", "chain", "window_price_factor", "assets")
_ASSET_KEYS = ("token", "decimals", "pools", "external_depth_usd")


@dataclass(frozen=True)
class AssetDepthConfig:
    symbol: str
    token: Address
    decimals: int
    pools: tuple[Address, ...]  # route to a USD stablecoin; empty: no on-chain depth
    external_depth_usd: float | None  # notional that moves the price 1%; None: no external


@dataclass(frozen=True)
class DepthConfig:
    model: str
    chain: str | None
    window_price_factor: float
    assets: tuple[AssetDepthConfig, ...]


class _Fail:
    def __init__(self, source: Path) -> None:
        self.source = source

    def __call__(self, key: str, problem: str) -> NoReturn:
        raise ConfigError(f"{self.source.name}: cascade.depth.{key} {problem}")


def parse_depth_config(source: Path, table: Any, chains: Mapping[str, Any]) -> DepthConfig:
    fail = _Fail(source)
    if not isinstance(table, dict):
        raise ConfigError(f"{source.name}: cascade.depth must be a table")
    _check_keys(fail, "", table, _TABLE_KEYS)
    model = table.get("model", "combined")
    if model not in MODELS:
        fail("model", f"must be one of {', '.join(MODELS)}, not {model!r}")
    chain = table.get("chain")
    if model != "external" and chain not in chains:
        known = ", ".join(chains) or "none"
        fail("chain", f"must name the [chains.*] table the pools are read on ({known}), "
                      f"not {chain!r}")
    factor = table.get("window_price_factor", 4.0)
    if isinstance(factor, bool) or not isinstance(factor, int | float) or not 1 < factor <= 100:
        fail("window_price_factor", f"must be a number in (1, 100], not {factor!r}")
    assets_table = table.get("assets", {})
    if not isinstance(assets_table, dict) or not assets_table:
        fail("assets", "must have at least one [cascade.depth.assets.<SYMBOL>] table")
    assets = tuple(_parse_asset(fail, symbol, value, model)
                   for symbol, value in assets_table.items())
    return DepthConfig(model, chain if model != "external" else None, float(factor), assets)


def _parse_asset(fail: _Fail, symbol: str, table: Any, model: str) -> AssetDepthConfig:
    prefix = f"assets.{symbol}"
    if not isinstance(table, dict):
        fail(prefix, "must be a table")
    _check_keys(fail, prefix + ".", table, _ASSET_KEYS)
    token = _address(fail, f"{prefix}.token", table.get("token"))
    decimals = table.get("decimals")
    if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 36:
        fail(f"{prefix}.decimals", f"is required: the token's decimals (0-36), not {decimals!r}")
    pools_value = table.get("pools", [])
    if not isinstance(pools_value, list):
        fail(f"{prefix}.pools", "must be a list of pool addresses")
    pools = tuple(_address(fail, f"{prefix}.pools[{i}]", p) for i, p in enumerate(pools_value))
    depth = table.get("external_depth_usd")
    if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int | float)
                              or depth <= 0):
        fail(f"{prefix}.external_depth_usd", f"must be a positive number of USD, not {depth!r}")
    if model == "uniswap" and not pools:
        fail(f"{prefix}.pools", "is required with model = \"uniswap\"")
    if model == "external" and depth is None:
        fail(f"{prefix}.external_depth_usd", "is required with model = \"external\"")
    if model == "combined" and not pools and depth is None:
        fail(prefix, "needs pools, external_depth_usd or both with model = \"combined\"")
    return AssetDepthConfig(symbol, token, decimals, pools, None if depth is None else float(depth))


def _check_keys(fail: _Fail, prefix: str, table: Mapping[str, Any],
                allowed: tuple[str, ...]) -> None:
    for key in table:
        if key not in allowed:
            fail(prefix + key, f"is not a known key; allowed: {', '.join(allowed)}")


def _address(fail: _Fail, key: str, value: Any) -> Address:
    if not isinstance(value, str) or not _ADDRESS_RE.match(value):
        fail(key, f"must be a 20-byte hex address, not {value!r}")
    mixed = value[2:] != value[2:].lower() and value[2:] != value[2:].upper()
    if mixed and not is_checksum_address(value):
        fail(key, f"{value!r} has a bad EIP-55 checksum: copy the address again")
    return str(to_checksum_address(value))
