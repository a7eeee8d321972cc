"""Protocol-neutral data that flows between the stages of a scan.

discover -> read at a pinned block (a protocol package -> MarketRead of Positions)
         -> liquidation price (a HealthCurve per position and axis -> PositionResult)
         -> histogram (HistogramBin) -> bands (Band) -> store/export (SnapshotRecord)

Nothing here knows a protocol: a protocol package (scanner/protocols/<key>/) turns its own
reads into `Position`s whose `state.curve(axis)` is its pure, integer-exact rule.
Units are in the names: `_raw` token base units, `_bps` basis points, `_wad` 1e18,
`_8dec` USD with 8 decimals (the axis unit). `_native` is a protocol oracle's own terms.
All chain quantities are `int`; floats appear only in binning and display.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any, Final, Protocol

from mypy_extensions import mypyc_attr

Address = str  # EIP-55 checksummed hex address

WAD: Final = 10**18
RAY: Final = 10**27
HEALTH_FACTOR_ONE_WAD: Final = WAD


@mypyc_attr(allow_interpreted_subclasses=True)  # so may a record (PositionResult below)
class Record:
    """Base of the records below: a serialised copy is rebuilt by the constructor. Compiled
    (scanner/native.py), a frozen dataclass is a native class without a __dict__, whose
    default restore sets fields one by one, which frozen refuses."""

    def __reduce__(self) -> tuple[type[Any], tuple[Any, ...]]:
        return type(self), tuple([getattr(self, f.name) for f in fields(self)])  # type: ignore[arg-type]


class PositionStatus(StrEnum):
    AT_RISK = "at_risk"  # healthy now, a move of the axis price liquidates it
    LIQUIDATABLE_NOW = "liquidatable_now"  # health factor already below 1
    NOT_SENSITIVE = "not_sensitive"  # no price of this axis can liquidate it (hedged / no exposure)
    # liqscan's mirror does not reproduce the protocol's own account data: no price, no bins
    UNVERIFIED = "unverified"


class Direction(StrEnum):
    DOWN = "down"  # net long the axis: liquidated when the price falls to the level
    UP = "up"  # net short the axis: liquidated when the price rises to the level


# --- A price axis -----------------------------------------------------------------------


@dataclass(frozen=True)
class Asset(Record):
    """A token a market prices, with its USD price (8 dec) in that market's oracle."""

    address: Address
    symbol: str
    price_8dec: int


@dataclass(frozen=True)
class Axis(Record):
    """A group of assets whose prices move together (ETH: WETH, wstETH, weETH, ...).

    The axis price is the price of `reference` (the first member found in a market).
    Moving the axis to price x scales every member's price by x / reference_price_now;
    every other asset keeps its price. A ratio axis (unit: its quote asset, e.g. WETH) is
    the same move of its members alone; a snapshot shows its price in the quote asset.
    """

    name: str
    members: frozenset[Address]
    reference: Address
    reference_price_8dec: int  # in a market: USD; for a snapshot: in `unit`, 8 decimals
    unit: str = "USD"
    quote_price_8dec: int = 0  # a ratio axis in a market: its quote asset's USD price
    reference_is_configured: bool = True  # False: the market lacks it, another member stands in


# --- What a protocol package hands to the neutral pipeline ------------------------------


# Built once per rule evaluation and per position: `init=False` and a written-out __init__,
# because compiled (scanner/native.py) a dataclass-generated __init__ still runs as Python
# (~0.6 us frozen, ~0.3 us not) where a native one costs ~0.05 us. Not frozen for the same
# reason (frozen fields are set through object.__setattr__): treat them as immutable; equal
# and hashed by value as before (unsafe_hash gives the __hash__ frozen gave).
@dataclass(init=False, unsafe_hash=True)
class Valuation(Record):
    """A position valued by its protocol's own rule at one axis price."""

    collateral_usd_8dec: int
    debt_usd_8dec: int
    health_factor_wad: int  # >= 1e18 is healthy; 2**256-1 without debt

    def __init__(self, collateral_usd_8dec: int, debt_usd_8dec: int,
                 health_factor_wad: int) -> None:
        self.collateral_usd_8dec = collateral_usd_8dec
        self.debt_usd_8dec = debt_usd_8dec
        self.health_factor_wad = health_factor_wad


class HealthCurve(Protocol):
    """One position on one axis: the protocol's integer rule as a function of the axis price.

    `x` is the axis reference asset's price in the protocol oracle's own terms
    (`price_unit`, `price_decimals`); `price_now` is that price at the scan block.
    """

    @property
    def price_now(self) -> int: ...
    @property
    def price_unit(self) -> str: ...
    @property
    def price_decimals(self) -> int: ...
    def healthy(self, x: int) -> bool: ...
    def value(self, x: int) -> Valuation: ...
    def seizable_usd_8dec(self, x: int) -> int:
        """Collateral a liquidator would take with the axis at x."""
        ...
    def axis_collateral_usd_8dec(self) -> int:
        """Collateral (now) whose price moves with the axis."""
        ...
    def piece(self, x: int) -> int:
        """Label of the stretch of prices around x on which health is monotone in x
        (constant when it is monotone everywhere); see pipeline/crossing.py."""
        ...
    def surely_healthy(self, x: int) -> bool:
        """A rounding-free bound says healthy at x, so no non-monotone dip is at x
        (always True for a monotone rule)."""
        ...
    def closed_form(self) -> int | None:
        """An approximate liquidation price to seed the bisection (None: none)."""
        ...


class PositionState(Protocol):
    """A protocol's own reads of one position at the scan block (a frozen dataclass)."""

    @property
    def has_debt(self) -> bool: ...
    def curve(self, axis: Axis) -> HealthCurve: ...
    def reported(self) -> Valuation:
        """The protocol's own view of the position at the block (stored for accounts whose
        rule the protocol contradicts, which get no price)."""
        ...


@dataclass(init=False, unsafe_hash=True)  # built per position read: see Valuation
class Position(Record):
    """One borrower's position in one (sub)market at the scan block, protocol-neutral."""

    market_key: str
    protocol: str
    submarket: str  # the Aave pool, a Morpho market id, a Comet address
    account: Address
    state: PositionState
    emode_category: int = 0  # Aave eMode; 0 elsewhere

    def __init__(self, market_key: str, protocol: str, submarket: str, account: Address,
                 state: PositionState, emode_category: int = 0) -> None:
        self.market_key = market_key
        self.protocol = protocol
        self.submarket = submarket
        self.account = account
        self.state = state
        self.emode_category = emode_category


@dataclass(frozen=True)
class MarketRead(Record):
    """Everything a protocol package read for one configured market at one block."""

    market_key: str
    protocol: str
    block: int
    block_timestamp: int
    revision: int  # the protocol contract's revision (Aave POOL_REVISION; 0 when none)
    assets: tuple[Asset, ...]
    positions: tuple[Position, ...]
    # accounts whose integer mirror disagrees with the protocol's own view at the block:
    # any price the rule gives them is known to be wrong
    mirror_mismatches: tuple[Address, ...] = ()


# --- Results of the pure stages ---------------------------------------------------------


# Tests subclass it (a field computed by a property: the store must read it through getattr).
@mypyc_attr(allow_interpreted_subclasses=True)
@dataclass(init=False, unsafe_hash=True)  # built per position: see Valuation
class PositionResult(Record):
    """One position's liquidation level on one axis."""

    market_key: str
    protocol: str
    account: Address
    axis: str
    status: PositionStatus
    direction: Direction | None  # None when not_sensitive
    liquidation_price_8dec: int | None  # axis price (USD) at which HF crosses 1; None if none
    axis_price_now_8dec: int
    health_factor_wad: int
    collateral_usd_8dec: int
    debt_usd_8dec: int
    axis_collateral_usd_8dec: int  # part of the collateral priced on the axis
    seizable_usd_8dec: int  # collateral a liquidator would take at the liquidation price
    emode_category: int = 0
    submarket: str = ""
    # the same level in the protocol oracle's own terms: raw integer, unit, decimals
    liquidation_price_native: int | None = None
    native_price_unit: str = "USD"
    native_price_decimals: int = 8
    # does the oracle's NEXT price liquidate it (Maker's OSM `peep`)? None: no delayed oracle
    liquidatable_next: bool | None = None
    # a vault held through a contract (Maker's CdpManager: `account` is its urn)
    owner: Address | None = None
    vault_id: int | None = None

    def __init__(
        self, market_key: str, protocol: str, account: Address, axis: str,
        status: PositionStatus, direction: Direction | None, liquidation_price_8dec: int | None,
        axis_price_now_8dec: int, health_factor_wad: int, collateral_usd_8dec: int,
        debt_usd_8dec: int, axis_collateral_usd_8dec: int, seizable_usd_8dec: int,
        emode_category: int = 0, submarket: str = "", liquidation_price_native: int | None = None,
        native_price_unit: str = "USD", native_price_decimals: int = 8,
        liquidatable_next: bool | None = None, owner: Address | None = None,
        vault_id: int | None = None,
    ) -> None:
        self.market_key = market_key
        self.protocol = protocol
        self.account = account
        self.axis = axis
        self.status = status
        self.direction = direction
        self.liquidation_price_8dec = liquidation_price_8dec
        self.axis_price_now_8dec = axis_price_now_8dec
        self.health_factor_wad = health_factor_wad
        self.collateral_usd_8dec = collateral_usd_8dec
        self.debt_usd_8dec = debt_usd_8dec
        self.axis_collateral_usd_8dec = axis_collateral_usd_8dec
        self.seizable_usd_8dec = seizable_usd_8dec
        self.emode_category = emode_category
        self.submarket = submarket
        self.liquidation_price_native = liquidation_price_native
        self.native_price_unit = native_price_unit
        self.native_price_decimals = native_price_decimals
        self.liquidatable_next = liquidatable_next
        self.owner = owner
        self.vault_id = vault_id


@dataclass(frozen=True)
class Share(Record):
    """One market's part of a bin or band of a snapshot."""

    market_key: str
    protocol: str
    positions: int
    collateral_usd_8dec: int
    debt_usd_8dec: int
    seizable_usd_8dec: int


@dataclass(frozen=True)
class HistogramBin(Record):
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
    shares: tuple[Share, ...] = ()  # per market, market key order


@dataclass(frozen=True)
class Band(Record):
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
    shares: tuple[Share, ...] = ()  # per market, market key order
    # identity over snapshots (scanner.pipeline.band_tracks), set when stored; not part of
    # what was found, so a re-scan of the same block compares equal
    track_id: int = field(default=0, compare=False, repr=False)
    split_from: int | None = field(default=None, compare=False, repr=False)


def shares_of(results: list[PositionResult] | tuple[PositionResult, ...]) -> tuple[Share, ...]:
    """Per-market sums of `results`, in market key order."""
    sums: dict[tuple[str, str], list[int]] = {}
    for r in results:
        s = sums.setdefault((r.market_key, r.protocol), [0, 0, 0, 0])
        s[0] += 1
        s[1] += r.collateral_usd_8dec
        s[2] += r.debt_usd_8dec
        s[3] += r.seizable_usd_8dec
    return tuple(Share(market, protocol, *values)
                 for (market, protocol), values in sorted(sums.items()))


@dataclass(frozen=True)
class ScanRecord(Record):
    """One market's part of a snapshot."""

    chain: str
    chain_id: int
    market_key: str
    protocol: str
    block: int
    block_timestamp: int
    pool_revision: int  # the protocol contract's revision (Aave POOL_REVISION; 0 when none)
    status: str = "complete"


@dataclass(frozen=True)
class MarketIdentity(Record):
    """What a market key's stored discovery state was searched for: the market, and the first
    block of the contiguous range whose Borrow logs were searched (it ends at the cursor)."""

    chain_id: int
    protocol: str
    pool_addresses_provider: Address
    searched_from_block: int


@dataclass(frozen=True)
class SnapshotRecord(Record):
    """Every configured market of one chain, read at one pinned block."""

    chain: str
    chain_id: int
    block: int
    block_timestamp: int
    markets: tuple[ScanRecord, ...] = field(default_factory=tuple)
    status: str = "complete"

    @property
    def market_keys(self) -> tuple[str, ...]:
        return tuple(m.market_key for m in self.markets)
