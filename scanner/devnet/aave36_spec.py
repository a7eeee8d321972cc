"""The devnet's Aave v3.6 market as data: aave36_market.toml parsed into frozen specs.

The market lists tokens of the v3.0 market and prices them with the same feeds, so each
reserve starts from the v3.0 `ReserveSpec` (name, decimals, prices, axis) and takes its risk
parameters from aave36_market.toml. eModes are v3.2+ categories: collateral and borrowable
asset sets (bitmaps on chain) instead of one category per reserve.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from scanner.devnet.aave_spec import MarketSpec, ReserveSpec, StrategySpec, load_market_spec
from scanner.errors import ConfigError

MARKET36_SPEC_PATH = Path(__file__).with_name("aave36_market.toml")
_RISK_FIELDS = ("ltv_bps", "lt_bps", "bonus_bps", "reserve_factor_bps", "borrowable", "strategy")


@dataclass(frozen=True)
class EMode36Spec:
    category_id: int
    label: str
    ltv_bps: int
    lt_bps: int
    bonus_bps: int
    collateral: tuple[str, ...]  # symbols on the collateral bitmap
    borrowable: tuple[str, ...]  # symbols on the borrowable bitmap


@dataclass(frozen=True)
class Market36Spec:
    market_id: str
    treasury: str
    reserves: tuple[ReserveSpec, ...]  # emode_category/debt ceiling unused (0) in v3.6
    emodes: tuple[EMode36Spec, ...]
    strategies: Mapping[str, StrategySpec]
    ltv_zero_after_seed: tuple[tuple[str, int], ...]  # (symbol, eMode id)

    def reserve(self, symbol: str) -> ReserveSpec:
        for reserve in self.reserves:
            if reserve.symbol == symbol:
                return reserve
        known = ", ".join(r.symbol for r in self.reserves)
        raise ConfigError(f"unknown asset {symbol!r} (the devnet v3.6 market has {known})")

    def emode(self, category_id: int) -> EMode36Spec:
        for emode in self.emodes:
            if emode.category_id == category_id:
                return emode
        raise ConfigError(f"eMode category {category_id} is not defined in aave36_market.toml")

    def lt_ltv_bps(self, symbol: str, emode: int) -> tuple[int, int]:
        """(LT, LTV) of `symbol` as collateral of a user in `emode`, before any ltvzero change:
        the eMode's values when the asset is on its collateral bitmap, else the reserve's."""
        if emode and symbol in self.emode(emode).collateral:
            category = self.emode(emode)
            return category.lt_bps, category.ltv_bps
        reserve = self.reserve(symbol)
        return reserve.lt_bps, reserve.ltv_bps

    def can_borrow(self, symbol: str, emode: int) -> bool:
        return symbol in self.emode(emode).borrowable if emode else self.reserve(symbol).borrowable

    def borrowable_anywhere(self, symbol: str) -> bool:
        return self.reserve(symbol).borrowable or any(symbol in e.borrowable for e in self.emodes)

    def axis_members(self, axis: str) -> tuple[str, ...]:
        return tuple(r.symbol for r in self.reserves if r.axis == axis)


def _reserve(base: MarketSpec, item: dict[str, Any]) -> ReserveSpec:
    risk = {name: item[name] for name in _RISK_FIELDS}
    return dataclasses.replace(base.reserve(item["symbol"]), emode_category=0,
                               debt_ceiling_usd=0, borrowable_in_isolation=False, **risk)


def _emode(key: str, value: dict[str, Any]) -> EMode36Spec:
    return EMode36Spec(category_id=int(key), label=value["label"], ltv_bps=value["ltv_bps"],
                       lt_bps=value["lt_bps"], bonus_bps=value["bonus_bps"],
                       collateral=tuple(value["collateral"]),
                       borrowable=tuple(value["borrowable"]))


@cache
def load_market36_spec(path: Path = MARKET36_SPEC_PATH) -> Market36Spec:
    """Parse aave36_market.toml on top of the v3.0 spec; raise ConfigError naming the problem."""
    base = load_market_spec()
    try:
        data = tomllib.loads(path.read_text())
        spec = Market36Spec(
            market_id=data["market_id"],
            treasury=data["treasury"],
            reserves=tuple(_reserve(base, item) for item in data["reserves"]),
            emodes=tuple(_emode(key, value) for key, value in data["emode"].items()),
            strategies={name: StrategySpec(**value) for name, value in data["strategies"].items()},
            ltv_zero_after_seed=tuple((str(s), int(e)) for s, e in data["ltv_zero_after_seed"]),
        )
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: invalid market spec ({exc})") from exc
    for reserve in spec.reserves:
        if reserve.strategy not in spec.strategies:
            raise ConfigError(f"{path}: reserve {reserve.symbol} names unknown strategy")
    for emode in spec.emodes:
        for symbol in (*emode.collateral, *emode.borrowable):
            spec.reserve(symbol)
    for symbol, category_id in spec.ltv_zero_after_seed:
        if symbol not in spec.emode(category_id).collateral:
            raise ConfigError(f"{path}: ltv_zero_after_seed {symbol} is not eMode "
                              f"{category_id} collateral")
    return spec
