"""What the Aave v2 adapter reads at one block: reserves, oracle prices in ETH, accounts.

Units are in the names: `_raw` token base units, `_bps` basis points, `_wad` 1e18, `_ray` 1e27,
`_eth_wei` the v2 AaveOracle's unit (ETH with 18 decimals), `_8dec` USD with 8 decimals.

Compiled with the native math (scanner/native.py), so every class here is a `Record`: a
serialised copy is rebuilt by the constructor (see scanner.domain.Record).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from scanner.domain import Address, Record


@dataclass(frozen=True)
class V2Reserve(Record):
    """One reserve's configuration, interest state and oracle price at the scan block."""

    asset: Address
    symbol: str
    reserve_id: int  # bits 2i (borrowing) / 2i+1 (collateral) of a user configuration
    decimals: int
    ltv_bps: int
    lt_bps: int
    bonus_bps: int  # e.g. 10500 = 5% bonus
    active: bool
    frozen: bool
    borrowing_enabled: bool
    stable_borrowing_enabled: bool
    price_eth_wei: int  # AaveOracle.getAssetPrice(asset): ETH per whole token, 18 decimals
    liquidity_index_ray: int  # stored at `last_update_timestamp`
    variable_borrow_index_ray: int
    liquidity_rate_ray: int  # per year
    variable_borrow_rate_ray: int  # per year
    last_update_timestamp: int
    a_token: Address
    stable_debt_token: Address
    variable_debt_token: Address


@dataclass(frozen=True)
class V2StableDebt(Record):
    """A user's stable loan as StableDebtToken stores it: principal, own rate, own timestamp."""

    principal_raw: int
    rate_ray: int
    last_update_timestamp: int


@dataclass(frozen=True)
class V2UserReserve(Record):
    """A user's stored balances in one reserve and the tokens' own balanceOf at the block."""

    asset: Address
    used_as_collateral: bool
    borrowing: bool
    scaled_supply_raw: int  # AToken.scaledBalanceOf
    scaled_variable_debt_raw: int  # VariableDebtToken.scaledBalanceOf
    stable: V2StableDebt
    # the tokens' own balanceOf at the block (what GenericLogic reads): the accrual mirror
    # (interest.py) must reproduce them
    supplied_raw: int
    variable_debt_raw: int
    stable_debt_raw: int

    @property
    def debt_raw(self) -> int:
        return self.variable_debt_raw + self.stable_debt_raw


@dataclass(frozen=True)
class V2Account(Record):
    """One account's position at the scan block, plus the pool's own account summary."""

    account: Address
    reserves: tuple[V2UserReserve, ...]
    # LendingPool.getUserAccountData at the same block
    reported_collateral_eth_wei: int
    reported_debt_eth_wei: int
    reported_lt_bps: int
    reported_health_factor_wad: int


@dataclass(frozen=True)
class V2MarketState(Record):
    """Everything about one Aave v2 market that the math needs, at one block."""

    market_key: str
    pool: Address
    pool_revision: int  # LendingPool.LENDINGPOOL_REVISION()
    weth: Address  # AaveOracle.WETH(): priced at exactly 1 ETH
    eth_usd_8dec: int  # the configured ETH/USD feed's answer, scaled to 8 decimals
    block: int
    block_timestamp: int
    reserves: Mapping[Address, V2Reserve]
