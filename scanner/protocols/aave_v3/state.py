"""What the Aave v3 adapter reads at one block: reserves, eMode categories, accounts.

Units are in the names: `_raw` token base units, `_bps` basis points, `_wad` 1e18,
`_8dec` the oracle base unit (USD with 8 decimals on every Aave v3 market we read).

Compiled with the native math (scanner/native.py), so every class here is a `Record`: a
serialised copy is rebuilt by the constructor (see scanner.domain.Record).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from scanner.domain import Address, Record


@dataclass(frozen=True)
class AaveReserve(Record):
    """One reserve's configuration and oracle price at the scan block."""

    asset: Address
    symbol: str
    reserve_id: int  # index in the pool's reserve list; bits 2i / 2i+1 of user config
    decimals: int
    ltv_bps: int
    lt_bps: int
    bonus_bps: int  # e.g. 10500 = 5% bonus
    emode_category: int  # v3.0/3.1: reserve config bits 168-175 (0 = none)
    price_8dec: int  # AaveOracle.getAssetPrice(asset), base-currency units
    debt_ceiling: int = 0  # isolation mode when non-zero (2 decimals USD)
    protocol_fee_bps: int = 0  # share of the liquidation bonus sent to the treasury


@dataclass(frozen=True)
class AaveEMode(Record):
    """An eMode category as the pool saw it at the scan block."""

    category_id: int
    ltv_bps: int
    lt_bps: int
    bonus_bps: int
    label: str = ""
    # v3.0/3.1 only: when non-zero every asset of the category is priced at this source's price.
    price_source: Address | None = None
    price_source_8dec: int = 0
    # v3.2+: reserves (by id bit) that get the eMode LT. None on v3.0/3.1 (category membership
    # is then the reserve's own `emode_category`).
    collateral_bitmap: int | None = None


# Built per reserve of every account read or derived (~40,000 a 10k-account snapshot):
# `init=False`, a written-out __init__ and not frozen, as scanner.domain.Valuation (compiled, a
# dataclass-generated __init__ still runs as Python). Treat as immutable; equal and hashed by
# value as when frozen.
@dataclass(init=False, unsafe_hash=True)
class AaveUserReserve(Record):
    """A user's balances in one reserve, accrued to the scan block, in token base units."""

    asset: Address
    supplied_raw: int  # aToken balance (scaled balance x normalized income)
    debt_raw: int  # variable + stable debt
    used_as_collateral: bool

    def __init__(self, asset: Address, supplied_raw: int, debt_raw: int,
                 used_as_collateral: bool) -> None:
        self.asset = asset
        self.supplied_raw = supplied_raw
        self.debt_raw = debt_raw
        self.used_as_collateral = used_as_collateral


@dataclass(init=False, unsafe_hash=True)  # built per account: see AaveUserReserve
class AaveAccount(Record):
    """One account's position at the scan block, plus the pool's own account summary."""

    account: Address
    emode_category: int
    reserves: tuple[AaveUserReserve, ...]
    # Pool.getUserAccountData at the same block: the integer mirror must reproduce these.
    reported_collateral_8dec: int
    reported_debt_8dec: int
    reported_health_factor_wad: int

    def __init__(self, account: Address, emode_category: int,
                 reserves: tuple[AaveUserReserve, ...], reported_collateral_8dec: int,
                 reported_debt_8dec: int, reported_health_factor_wad: int) -> None:
        self.account = account
        self.emode_category = emode_category
        self.reserves = reserves
        self.reported_collateral_8dec = reported_collateral_8dec
        self.reported_debt_8dec = reported_debt_8dec
        self.reported_health_factor_wad = reported_health_factor_wad


@dataclass(frozen=True)
class AaveMarketState(Record):
    """Everything about one Aave-family market that the math needs, at one block."""

    market_key: str
    pool_revision: int  # POOL_REVISION(); selects the health-factor arithmetic
    base_unit: int  # AaveOracle.BASE_CURRENCY_UNIT(), 10**8 for USD
    block: int
    block_timestamp: int
    reserves: Mapping[Address, AaveReserve]
    emodes: Mapping[int, AaveEMode] = field(default_factory=dict)
    pool: Address = ""  # the Pool the reserves belong to (a position's `submarket`)
    # the market's opt-in to scan a pool revision newer than any liqscan was checked on
    allow_unreviewed_revision: bool = False
