"""Plain data that flows between the stages of a scan.

discover -> read at a pinned block (AaveMarketState, AaveAccount)
         -> liquidation price (PositionResult)
         -> histogram (HistogramBin) -> bands (Band) -> store/export (ScanRecord)

Units are in the names: `_raw` token base units, `_bps` basis points, `_wad` 1e18,
`_8dec` the oracle base unit (USD with 8 decimals on every Aave v3 market we read).
All chain quantities are `int`; floats appear only in binning and display.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

Address = str  # EIP-55 checksummed hex address

WAD = 10**18
RAY = 10**27
HEALTH_FACTOR_ONE_WAD = WAD


class PositionStatus(StrEnum):
    AT_RISK = "at_risk"  # healthy now, a move of the axis price liquidates it
    LIQUIDATABLE_NOW = "liquidatable_now"  # health factor already below 1
    NOT_SENSITIVE = "not_sensitive"  # no price of this axis can liquidate it (hedged / no exposure)
    # liqscan's mirror does not reproduce the protocol's own account data: no price, no bins
    UNVERIFIED = "unverified"


class Direction(StrEnum):
    DOWN = "down"  # net long the axis: liquidated when the price falls to the level
    UP = "up"  # net short the axis: liquidated when the price rises to the level


# --- Aave v3 family: what a protocol adapter reads at one block -------------------------


@dataclass(frozen=True)
class AaveReserve:
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
class AaveEMode:
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


@dataclass(frozen=True)
class AaveUserReserve:
    """A user's balances in one reserve, accrued to the scan block, in token base units."""

    asset: Address
    supplied_raw: int  # aToken balance (scaled balance x normalized income)
    debt_raw: int  # variable + stable debt
    used_as_collateral: bool


@dataclass(frozen=True)
class AaveAccount:
    """One account's position at the scan block, plus the pool's own account summary."""

    account: Address
    emode_category: int
    reserves: tuple[AaveUserReserve, ...]
    # Pool.getUserAccountData at the same block: the integer mirror must reproduce these.
    reported_collateral_8dec: int
    reported_debt_8dec: int
    reported_health_factor_wad: int


@dataclass(frozen=True)
class AaveMarketState:
    """Everything about one Aave-family market that the math needs, at one block."""

    market_key: str
    pool_revision: int  # POOL_REVISION(); selects the health-factor arithmetic
    base_unit: int  # AaveOracle.BASE_CURRENCY_UNIT(), 10**8 for USD
    block: int
    block_timestamp: int
    reserves: Mapping[Address, AaveReserve]
    emodes: Mapping[int, AaveEMode] = field(default_factory=dict)
    # the market's opt-in to scan a pool revision newer than any liqscan was checked on
    allow_unreviewed_revision: bool = False


# --- A price axis -----------------------------------------------------------------------


@dataclass(frozen=True)
class Axis:
    """A group of assets whose prices move together (ETH: WETH, wstETH, weETH, ...).

    The axis price is the price of `reference` (the first member found in a market).
    Moving the axis to price x scales every member's price by x / reference_price_now.
    """

    name: str
    members: frozenset[Address]
    reference: Address
    reference_price_8dec: int


# --- Results of the pure stages ---------------------------------------------------------


@dataclass(frozen=True)
class PositionResult:
    """One position's liquidation level on one axis."""

    market_key: str
    protocol: str
    account: Address
    axis: str
    status: PositionStatus
    direction: Direction | None  # None when not_sensitive
    liquidation_price_8dec: int | None  # axis price at which HF crosses 1; None if not_sensitive
    axis_price_now_8dec: int
    health_factor_wad: int
    collateral_usd_8dec: int
    debt_usd_8dec: int
    axis_collateral_usd_8dec: int  # part of the collateral priced on the axis
    seizable_usd_8dec: int  # collateral a liquidator would take at the liquidation price
    emode_category: int = 0


@dataclass(frozen=True)
class HistogramBin:
    axis: str
    direction: Direction
    bin_index: int  # 0 = nearest the current price, growing away from it
    low_8dec: int
    high_8dec: int
    positions: int
    collateral_usd_8dec: int
    debt_usd_8dec: int
    seizable_usd_8dec: int
    cumulative_collateral_usd_8dec: int  # liquidatable once the price reaches this bin's far edge


@dataclass(frozen=True)
class Band:
    axis: str
    direction: Direction
    rank: int  # 1 = largest collateral
    low_8dec: int  # liquidation price of the band's lowest position
    high_8dec: int  # liquidation price of the band's highest position
    positions: int
    collateral_usd_8dec: int
    debt_usd_8dec: int
    seizable_usd_8dec: int
    share_of_at_risk_bps: int  # of all at-risk collateral on this axis and direction
    distance_low_bps: int  # (low / price_now - 1) in bps, signed
    distance_high_bps: int
    top_accounts: tuple[Address, ...]
    kind: str = "band"  # "band": a dense run of many positions; "wall": one or a tight few


@dataclass(frozen=True)
class ScanRecord:
    """Header of one snapshot."""

    chain: str
    chain_id: int
    market_key: str
    protocol: str
    block: int
    block_timestamp: int
    pool_revision: int
    status: str = "complete"


@dataclass(frozen=True)
class MarketIdentity:
    """What a market key's stored discovery state was searched for: the market, and the first
    block of the contiguous range whose Borrow logs were searched (it ends at the cursor)."""

    chain_id: int
    protocol: str
    pool_addresses_provider: Address
    searched_from_block: int
