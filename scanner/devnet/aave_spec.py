"""The devnet Aave market as data: aave_market.toml parsed into frozen specs.

Prices are decimal USD strings in the TOML, converted exactly to 8-decimal integers.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from scanner.errors import ConfigError

MARKET_SPEC_PATH = Path(__file__).with_name("aave_market.toml")
PRICE_UNIT_8DEC = 10**8


# --- the market as data -----------------------------------------------------------------


@dataclass(frozen=True)
class ReserveSpec:
    symbol: str
    name: str
    decimals: int
    price_8dec: int  # the price after seeding
    seed_price_8dec: int  # the price while positions open (differs only for LINK)
    ltv_bps: int
    lt_bps: int
    bonus_bps: int
    reserve_factor_bps: int
    borrowable: bool
    emode_category: int
    debt_ceiling_usd: int
    borrowable_in_isolation: bool
    strategy: str
    axis: str


@dataclass(frozen=True)
class EModeSpec:
    category_id: int
    label: str
    ltv_bps: int
    lt_bps: int
    bonus_bps: int


@dataclass(frozen=True)
class StrategySpec:
    optimal_usage_bps: int
    base_rate_bps: int
    slope1_bps: int
    slope2_bps: int


@dataclass(frozen=True)
class MarketSpec:
    market_id: str
    treasury: str
    reserves: tuple[ReserveSpec, ...]
    emodes: tuple[EModeSpec, ...]
    strategies: Mapping[str, StrategySpec]

    def reserve(self, symbol: str) -> ReserveSpec:
        for reserve in self.reserves:
            if reserve.symbol == symbol:
                return reserve
        known = ", ".join(r.symbol for r in self.reserves)
        raise ConfigError(f"unknown asset {symbol!r} (the devnet market has {known})")

    def emode(self, category_id: int) -> EModeSpec:
        for emode in self.emodes:
            if emode.category_id == category_id:
                return emode
        raise ConfigError(f"eMode category {category_id} is not defined in aave_market.toml")

    def axis_members(self, axis: str) -> tuple[str, ...]:
        return tuple(r.symbol for r in self.reserves if r.axis == axis)


def price_to_8dec(value: object, where: str) -> int:
    """A decimal USD price (string or number in the TOML) -> integer with 8 decimals, exactly."""
    try:
        scaled = Decimal(str(value)) * PRICE_UNIT_8DEC
    except InvalidOperation as exc:
        raise ConfigError(f"{where}: price {value!r} is not a number") from exc
    if scaled <= 0 or scaled != scaled.to_integral_value():
        raise ConfigError(f"{where}: price {value!r} must be > 0 with at most 8 decimals")
    return int(scaled)


def _reserve_from_toml(item: dict[str, Any]) -> ReserveSpec:
    where = f"aave_market.toml reserve {item.get('symbol', '?')}"
    try:
        price_8dec = price_to_8dec(item["price_usd"], where)
        seed_price_8dec = price_to_8dec(item.get("seed_price_usd", item["price_usd"]), where)
        plain = {f.name: item[f.name] for f in fields(ReserveSpec) if "price" not in f.name}
    except KeyError as exc:
        raise ConfigError(f"{where}: missing field {exc.args[0]}") from exc
    return ReserveSpec(price_8dec=price_8dec, seed_price_8dec=seed_price_8dec, **plain)


@cache
def load_market_spec(path: Path = MARKET_SPEC_PATH) -> MarketSpec:
    """Parse aave_market.toml; raise ConfigError naming the bad field."""
    try:
        data = tomllib.loads(path.read_text())
        emodes = tuple(
            EModeSpec(category_id=int(key), **value) for key, value in data["emode"].items()
        )
        strategies = {name: StrategySpec(**value) for name, value in data["strategies"].items()}
        spec = MarketSpec(
            market_id=data["market_id"],
            treasury=data["treasury"],
            reserves=tuple(_reserve_from_toml(item) for item in data["reserves"]),
            emodes=emodes,
            strategies=strategies,
        )
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: invalid market spec ({exc})") from exc
    for reserve in spec.reserves:
        if reserve.strategy not in spec.strategies:
            raise ConfigError(f"{path}: reserve {reserve.symbol} names unknown strategy")
        if reserve.emode_category:
            spec.emode(reserve.emode_category)
    return spec
