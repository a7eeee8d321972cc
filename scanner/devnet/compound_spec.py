"""The devnet's Compound III markets as data (compound_markets.toml), and the feed arithmetic.

Every Comet feed is a DevnetCometPriceFeed over the Aave aggregator of its symbol:
`feed_price_8dec` mirrors its answer (USD as is; quoted: floor(asset * 1e8 / quote)).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from scanner.errors import ConfigError

COMPOUND_SPEC_PATH = Path(__file__).with_name("compound_markets.toml")
FACTOR_SCALE = 10**18
PRICE_SCALE = 10**8
USD_QUOTE = "USD"


@dataclass(frozen=True)
class CometAssetSpec:
    symbol: str
    borrow_collateral_factor_wad: int
    liquidate_collateral_factor_wad: int
    liquidation_factor_wad: int
    supply_cap_whole: int


@dataclass(frozen=True)
class CometSpec:
    key: str
    base: str
    quote: str  # "USD" or the symbol whose price is the unit
    base_borrow_min: Decimal  # whole base tokens
    target_reserves: Decimal  # whole base tokens: the store front sells while reserves are below
    rates_per_year_wad: Mapping[str, int]  # Configuration field name -> value
    assets: tuple[CometAssetSpec, ...]

    def asset(self, symbol: str) -> CometAssetSpec:
        for asset in self.assets:
            if asset.symbol == symbol:
                return asset
        raise ConfigError(f"{symbol} is not a collateral of the devnet Comet {self.key!r}")


@dataclass(frozen=True)
class CompoundSpec:
    stress_boost: Decimal
    comets: tuple[CometSpec, ...]


_RATE_FIELDS = {
    "supplyKink": "supply_kink",
    "supplyPerYearInterestRateSlopeLow": "supply_per_year_slope_low",
    "supplyPerYearInterestRateSlopeHigh": "supply_per_year_slope_high",
    "supplyPerYearInterestRateBase": "supply_per_year_base",
    "borrowKink": "borrow_kink",
    "borrowPerYearInterestRateSlopeLow": "borrow_per_year_slope_low",
    "borrowPerYearInterestRateSlopeHigh": "borrow_per_year_slope_high",
    "borrowPerYearInterestRateBase": "borrow_per_year_base",
}


def _wad(value: object, where: str) -> int:
    try:
        scaled = Decimal(str(value)) * FACTOR_SCALE
    except InvalidOperation as exc:
        raise ConfigError(f"{where}: {value!r} is not a decimal number") from exc
    if scaled != scaled.to_integral_value() or scaled < 0:
        raise ConfigError(f"{where}: {value!r} must be >= 0 with at most 18 decimals")
    return int(scaled)


def _asset(item: Mapping[str, Any], where: str) -> CometAssetSpec:
    return CometAssetSpec(
        symbol=str(item["symbol"]),
        borrow_collateral_factor_wad=_wad(item["borrow_collateral_factor"], where),
        liquidate_collateral_factor_wad=_wad(item["liquidate_collateral_factor"], where),
        liquidation_factor_wad=_wad(item["liquidation_factor"], where),
        supply_cap_whole=int(item["supply_cap"]),
    )


def _comet(item: Mapping[str, Any]) -> CometSpec:
    where = f"comet {item.get('key')!r}"
    return CometSpec(
        key=str(item["key"]),
        base=str(item["base"]),
        quote=str(item["quote"]),
        base_borrow_min=Decimal(str(item["base_borrow_min"])),
        target_reserves=Decimal(str(item["target_reserves"])),
        rates_per_year_wad={f: _wad(item[k], f"{where}.{k}") for f, k in _RATE_FIELDS.items()},
        assets=tuple(_asset(a, f"{where} asset {a.get('symbol')!r}") for a in item["assets"]),
    )


def load_compound_spec(path: Path = COMPOUND_SPEC_PATH) -> CompoundSpec:
    try:
        data = tomllib.loads(path.read_text())
        spec = CompoundSpec(Decimal(str(data["stress_boost"])),
                            tuple(_comet(c) for c in data["comets"]))
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError,
            InvalidOperation) as exc:
        raise ConfigError(f"invalid Compound devnet spec {path}: {exc}") from exc
    for comet in spec.comets:
        for asset in comet.assets:
            if asset.borrow_collateral_factor_wad >= asset.liquidate_collateral_factor_wad:
                raise ConfigError(f"{path}: {comet.key}/{asset.symbol} borrow factor must be "
                                  "below its liquidate factor")
    return spec


def feed_price_8dec(aggregator_8dec: Mapping[str, int], symbol: str, quote: str) -> int:
    """What DevnetCometPriceFeed answers for `symbol` in `quote`, given the Aave answers."""
    if quote == USD_QUOTE:
        return aggregator_8dec[symbol]
    return aggregator_8dec[symbol] * PRICE_SCALE // aggregator_8dec[quote]
