"""Integer mirror of Aave v2 `GenericLogic.calculateUserAccountData` (npm @aave/protocol-v2).

Everything is in the v2 AaveOracle's unit, ETH with 18 decimals (wei):

    value_i   = price_i * balance_i // 10**decimals_i             (floor, per reserve)
    collateral = Σ value_i   over reserves used as collateral with LT != 0
    debt       = Σ price_j * (stable_j + variable_j) // 10**decimals_j
    avgLT      = Σ value_i * LT_i // collateral                     (floored to whole bps)
    HF         = wadDiv(percentMul(collateral, avgLT), debt)        (half up, half up)
                 2**256 - 1 without debt

A reserve whose LT is 0 is skipped as collateral even when the user enabled it. The
floored average LT makes HF non-monotone in one price when collateral mixes LTs (see rule.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from scanner.domain import WAD, Address

MAX_UINT256 = 2**256 - 1
PERCENTAGE_FACTOR = 10_000
HALF_PERCENT = 5_000


def percent_mul(value: int, percentage_bps: int) -> int:
    """PercentageMath.percentMul: half up."""
    return (value * percentage_bps + HALF_PERCENT) // PERCENTAGE_FACTOR


def percent_div(value: int, percentage_bps: int) -> int:
    """PercentageMath.percentDiv: half up."""
    return (value * PERCENTAGE_FACTOR + percentage_bps // 2) // percentage_bps


def wad_div(a: int, b: int) -> int:
    """WadRayMath.wadDiv: half up."""
    return (a * WAD + b // 2) // b


# Built per leg of every curve: a written-out __init__, not frozen (see domain.Valuation);
# treat it as immutable (dataclasses.replace makes a changed copy).
@dataclass(init=False, unsafe_hash=True)
class Leg:
    """One user reserve with its price-independent parameters resolved."""

    asset: Address
    unit: int  # 10**decimals
    collateral_raw: int  # 0 when it does not count as collateral (not enabled, or LT 0)
    debt_raw: int  # stable + variable, accrued to the block
    lt_bps: int
    bonus_bps: int

    def __init__(self, asset: Address, unit: int, collateral_raw: int, debt_raw: int,
                 lt_bps: int, bonus_bps: int) -> None:
        self.asset = asset
        self.unit = unit
        self.collateral_raw = collateral_raw
        self.debt_raw = debt_raw
        self.lt_bps = lt_bps
        self.bonus_bps = bonus_bps


@dataclass(frozen=True)
class Totals:
    """What getUserAccountData reports (minus LTV and available borrows)."""

    collateral_eth_wei: int
    debt_eth_wei: int
    avg_lt_bps: int
    health_factor_wad: int
    weighted_collateral: int  # Σ value_i * LT_i (18 + 4 decimals), before the floor


def calculate_totals(legs: tuple[Leg, ...], prices_eth_wei: Mapping[Address, int]) -> Totals:
    """GenericLogic.calculateUserAccountData over resolved legs at the given ETH prices."""
    collateral = weighted = debt = 0
    for leg in legs:
        if leg.collateral_raw == 0 and leg.debt_raw == 0:
            continue
        price_eth_wei = prices_eth_wei[leg.asset]
        if leg.collateral_raw:
            value_eth_wei = price_eth_wei * leg.collateral_raw // leg.unit
            collateral += value_eth_wei
            weighted += value_eth_wei * leg.lt_bps
        if leg.debt_raw:
            debt += price_eth_wei * leg.debt_raw // leg.unit
    avg_lt_bps = weighted // collateral if collateral else 0
    if debt == 0:
        health_factor_wad = MAX_UINT256
    else:
        health_factor_wad = wad_div(percent_mul(collateral, avg_lt_bps), debt)
    return Totals(collateral, debt, avg_lt_bps, health_factor_wad, weighted)
