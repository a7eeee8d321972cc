"""What is read from one Comet at one block (frozen; the rule's inputs plus the Comet's own
views for the mirror check)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from scanner.domain import Address
from scanner.protocols.compound_v3.rule import (
    CometAccount,
    CometAsset,
    CometPrices,
    CometRates,
    CometTotals,
)


@dataclass(frozen=True)
class CometStoreFront:
    """`buyCollateral`'s terms at the block, from the Comet's own views."""

    price_factor_wad: int  # storeFrontPriceFactor
    target_reserves_raw: int  # targetReserves (base units)
    reserves_raw: int  # getReserves (base units, signed; accrued to the block in memory)
    # getCollateralReserves per asset: collateral the Comet already holds (absorbed, unsold)
    collateral_reserves_raw: Mapping[Address, int] = field(default_factory=dict)

    def is_open(self, reserves_raw: int) -> bool:
        """buyCollateral reverts NotForSale while reserves >= targetReserves."""
        return reserves_raw < 0 or reserves_raw < self.target_reserves_raw


@dataclass(frozen=True)
class StoreStock:
    """What the store front holds as a cascade's absorbs and sales leave it (the sale's
    LEDGER): the reserves, the collateral for sale, and what the buyer has already resold
    on the market at the current axis price (its next purchase at that price sees the market
    its own sales moved)."""

    reserves_raw: int  # base units, signed
    collateral_raw: Mapping[Address, int]  # getCollateralReserves, per asset
    resold_at_8dec: int = 0  # the axis price (the curve's terms) of `resold_raw`
    resold_raw: Mapping[Address, int] = field(default_factory=dict)

    @classmethod
    def at_block(cls, store: CometStoreFront) -> StoreStock:
        return cls(store.reserves_raw, dict(store.collateral_reserves_raw))

    def resold_at(self, x_8dec: int) -> Mapping[Address, int]:
        """What the buyer already sold on the market at axis price x (none at another)."""
        return self.resold_raw if self.resold_at_8dec == x_8dec else {}


@dataclass(frozen=True)
class CometMarketState:
    """One Comet at one block. Prices are the Comet's `getPrice` (8 decimals, its own unit:
    USD, or its base token when `quote_usd_8dec` is set -- then that is the base token's
    USD price from the configured `quote_usd_feed`)."""

    market_key: str
    comet: Address
    block: int
    block_timestamp: int
    base_token: Address
    base_symbol: str
    base_scale: int
    rates: CometRates
    stored_totals: CometTotals  # totalsBasic as stored (what the views use)
    accrued_totals: CometTotals  # accrued to the block's timestamp (what absorb uses)
    assets: tuple[CometAsset, ...]
    symbols: Mapping[Address, str]  # asset (and base token) -> ERC-20 symbol
    prices: CometPrices  # native, 8 decimals
    quote_usd_8dec: int | None  # None: the Comet prices in USD
    store_front: CometStoreFront  # where absorbed collateral is sold


@dataclass(frozen=True)
class CometUser:
    """One account's `userBasic` + `userCollateral`, and the Comet's own views of it."""

    account: Address
    basic: CometAccount
    reported_debt_raw: int  # borrowBalanceOf (accrues to the block in memory)
    reported_liquidatable: bool  # isLiquidatable (stored indices)
