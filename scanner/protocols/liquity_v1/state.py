"""What is read from Liquity v1 at one block (frozen): the system and each trove."""

from __future__ import annotations

from dataclasses import dataclass

from scanner.domain import Address
from scanner.protocols.liquity_v1.rule import STATUS_ACTIVE, pending_reward


@dataclass(frozen=True)
class LiquitySystem:
    """The TroveManager's system at the block. `price_wad` is `PriceFeed.fetchPrice()` as an
    eth_call at the block: the price `liquidate` would use (`lastGoodPrice` when the feed's
    oracles fail)."""

    trove_manager: Address
    price_wad: int
    system_coll_wei: int  # ActivePool.getETH() + DefaultPool.getETH()
    system_debt_wad: int  # ActivePool.getLUSDDebt() + DefaultPool.getLUSDDebt()
    lusd_in_sp_wad: int  # StabilityPool.getTotalLUSDDeposits()
    trove_count: int  # getTroveOwnersCount(): active troves
    l_eth: int
    l_lusd_debt: int
    total_stakes: int = 0  # TroveManager.totalStakes(): what a redistribution is shared over


@dataclass(frozen=True)
class LiquityTrove:
    """`Troves(owner)` and `rewardSnapshots(owner)`; the entire debt and coll follow the rule."""

    owner: Address
    debt_wad: int  # stored, with the 200 LUSD gas reserve
    coll_wei: int
    stake: int
    status: int
    snapshot_eth: int
    snapshot_lusd_debt: int
    # getEntireDebtAndColl(owner): the contract's own view, which the rule must reproduce
    reported_debt_wad: int
    reported_coll_wei: int

    def pending_coll_wei(self, system: LiquitySystem) -> int:
        return pending_reward(self.stake, system.l_eth, self.snapshot_eth,
                              self.status == STATUS_ACTIVE)

    def pending_debt_wad(self, system: LiquitySystem) -> int:
        return pending_reward(self.stake, system.l_lusd_debt, self.snapshot_lusd_debt,
                              self.status == STATUS_ACTIVE)

    def entire(self, system: LiquitySystem) -> tuple[int, int]:
        """(debt, coll) as getEntireDebtAndColl returns them: pending rewards included."""
        return (self.debt_wad + self.pending_debt_wad(system),
                self.coll_wei + self.pending_coll_wei(system))
