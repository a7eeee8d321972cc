"""What is read from a Liquity v2 deployment at one block (frozen): per collateral branch its
ratios, price and shutdown time, per batch manager its stored batch, per trove its stored
fields and the TroveManager's own `getLatestTroveData` answer."""

from __future__ import annotations

from dataclasses import dataclass

from scanner.domain import Address

PRICE_SOURCE_LAST_GOOD_PRICE = 2  # IMainnetPriceFeed.PriceSource.lastGoodPrice


@dataclass(frozen=True)
class Liquity2BranchAddresses:
    """One collateral branch as the CollateralRegistry lists it, and what its contracts name."""

    index: int
    token: Address
    trove_manager: Address
    borrower_operations: Address
    trove_nft: Address
    price_feed: Address
    stability_pool: Address = ""  # TroveManager.stabilityPool()


@dataclass(frozen=True)
class Liquity2Branch:
    """A branch at the scan block. Ratios and the price are 18-decimal fixed point (1e18 =
    100%, USD per whole collateral token); `shutdown_time` is 0 while the branch is live."""

    addresses: Liquity2BranchAddresses
    symbol: str
    mcr: int
    ccr: int
    scr: int
    price: int  # PriceFeed.fetchPrice() simulated at the block: what a liquidation uses
    last_good_price: int  # PriceFeed.lastGoodPrice() stored at the block (before that call)
    price_source: int  # PriceFeed.priceSource(): 2 = frozen at lastGoodPrice
    oracle_failure: bool  # fetchPrice found a new oracle failure: it would shut the branch
    shutdown_time: int
    timestamp: int  # the scan block's
    # sum of `Troves(id).stake` over the branch's trove ids (the contract's totalStakes, which
    # the TroveManager keeps internal) and their count: what a redistribution divides by
    total_stakes: int = 0
    trove_count: int = 0
    # StabilityPool.getTotalBoldDeposits() (BOLD wei): what the branch's liquidations offset
    bold_in_sp: int = 0

    @property
    def index(self) -> int:
        return self.addresses.index

    @property
    def shut_down(self) -> bool:
        return self.shutdown_time != 0

    @property
    def price_frozen(self) -> bool:
        """After an oracle failure the feed answers lastGoodPrice forever: no market move
        changes the price the TroveManager liquidates at."""
        return self.price_source == PRICE_SOURCE_LAST_GOOD_PRICE or self.oracle_failure

    @property
    def submarket(self) -> str:
        """The label of the branch's positions ("0:WETH"; "1:wstETH:shutdown" once shut)."""
        label = f"{self.index}:{self.symbol}"
        return f"{label}:shutdown" if self.shut_down else label


@dataclass(frozen=True)
class Liquity2Batch:
    """`TroveManager.getLatestBatchData(manager)`'s stored part (debt in BOLD wei)."""

    manager: Address
    recorded_debt: int
    annual_interest_rate: int
    annual_management_fee: int
    total_debt_shares: int
    last_debt_update_time: int


@dataclass(frozen=True)
class Liquity2Trove:
    """`TroveManager.Troves(id)` plus the redistribution gains and totals of
    `getLatestTroveData(id)` (the gains hang on L_coll/L_boldDebt, which no getter exposes)."""

    trove_id: int
    owner: Address
    status: int  # 1 active, 4 zombie
    debt: int  # stored recordedDebt (0 for a batched trove)
    coll: int
    last_debt_update_time: int
    annual_interest_rate: int
    batch_manager: Address | None
    batch_debt_shares: int
    redist_debt_gain: int
    redist_coll_gain: int
    reported_entire_debt: int  # getLatestTroveData: what the contract says at the block
    reported_entire_coll: int
    stake: int = 0  # Troves(id).stake: its share of the branch's redistributions
