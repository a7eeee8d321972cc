"""What is read from one Comet at one block (frozen; the rule's inputs plus the Comet's own
views for the mirror check)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

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

    def is_open(self, reserves_raw: int) -> bool:
        """buyCollateral reverts NotForSale while reserves >= targetReserves."""
        return reserves_raw < 0 or reserves_raw < self.target_reserves_raw


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
