"""What liquidating one Liquity v2 trove at an axis price puts on the market: nothing.

`batchLiquidateTroves` offsets the trove's debt against the branch's Stability Pool (its
`getTotalBoldDeposits()` at the scan block, less the 1 BOLD it always leaves), whose
depositors receive the same share of its collateral (less the gas compensation), and
redistributes the rest to the branch's other troves, debt and collateral alike, pro rata of
their stakes (L_coll and L_boldDebt grow by amount x 1e18 / totalStakes, the trove's own stake
removed first); what exceeds the penalties stays claimable by the owner (offset.py). No one
has to sell: the collateral goes to depositors and troves, not to the market, so it moves no
price here. The offset debt is repaid (the pool's BOLD is burnt); the redistributed debt is
moved to other troves, not lost: no bad debt.

The branch is used up within a cascade (`LEDGER`, one state per branch): each offset draws the
pool down, so later liquidations (this round's and the next rounds') find less of it; each
redistribution removes the trove's stake and raises the per-unit-staked rewards, which raise
the other troves' entire debt and collateral by stake x reward / 1e18 -- their ICR changes,
and the engine asks them again at every round, so the troves a redistribution pushes under
the MCR are liquidated in later rounds. The contract refuses to liquidate the last trove of a
branch.

Known limits:
- the penalties are the deployed system's (offset.py: the TroveManager keeps them internal);
- the pool's deposits are what the block holds: a depositor who withdraws (or a new one who
  deposits) during the cascade is not foreseen;
- the redistribution's rounding remainders the contract carries
  (`lastCollError_Redistribution`, internal) start at 0 here, and a trove's gain is its
  scan-block gain plus stake x (reward added) / 1e18: under one wei per trove apart.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from scanner.cascade.sale import Ledger, LiquidationSale
from scanner.protocols.liquity_v2.curve import Liquity2Curve
from scanner.protocols.liquity_v2.offset import bold_for_offsets, trove_split
from scanner.protocols.liquity_v2.rule import DECIMAL_PRECISION

_WAD_TO_8DEC = 10**10


@dataclass(frozen=True)
class BranchRedistribution:
    """One branch as the cascade's liquidations left it: the stakes still in, the troves
    left, the rewards per unit staked (1e18) added since the scan block, and the BOLD in
    its Stability Pool (wei)."""

    total_stakes: int
    trove_count: int
    coll_per_stake_added: int = 0
    debt_per_stake_added: int = 0
    coll_error: int = 0
    debt_error: int = 0
    bold_in_sp: int = 0


def bound(curve: Liquity2Curve, branch: BranchRedistribution) -> Liquity2Curve:
    """The trove with the rewards redistributed to it since the scan block."""
    debt = curve.debt
    coll_gain = curve.stake * branch.coll_per_stake_added // DECIMAL_PRECISION
    debt_gain = curve.stake * branch.debt_per_stake_added // DECIMAL_PRECISION
    return replace(curve, debt=replace(debt, entire_coll=debt.entire_coll + coll_gain,
                                       entire_debt=debt.entire_debt + debt_gain))


def redistributed(branch: BranchRedistribution, stake: int, debt: int, coll: int
                  ) -> BranchRedistribution:
    """`_redistributeDebtAndColl` once the trove's stake has left totalStakes (nothing
    moves when no debt is redistributed, as in the contract)."""
    stakes = branch.total_stakes - stake
    if debt == 0:
        return replace(branch, total_stakes=stakes, trove_count=branch.trove_count - 1)
    coll_numerator = coll * DECIMAL_PRECISION + branch.coll_error
    debt_numerator = debt * DECIMAL_PRECISION + branch.debt_error
    coll_reward, debt_reward = coll_numerator // stakes, debt_numerator // stakes
    return BranchRedistribution(stakes, branch.trove_count - 1,
                                branch.coll_per_stake_added + coll_reward,
                                branch.debt_per_stake_added + debt_reward,
                                coll_numerator - coll_reward * stakes,
                                debt_numerator - debt_reward * stakes, branch.bold_in_sp)


@dataclass(frozen=True)
class _Bound:
    """The curve the engine hands `liquidation_sale`: the trove and its branch's state."""

    curve: Liquity2Curve
    branch: BranchRedistribution


def _read(curve: Liquity2Curve) -> BranchRedistribution:
    return BranchRedistribution(curve.branch.total_stakes, curve.branch.trove_count,
                                bold_in_sp=curve.branch.bold_in_sp)


LEDGER = Ledger(key=lambda curve: curve.branch.index, read=_read,
                bind=lambda curve, branch: _Bound(bound(curve, branch), branch))


def liquidation_sale(curve: Liquity2Curve | _Bound, x: int) -> LiquidationSale | None:
    """One `batchLiquidateTroves([id])` with the axis at x (18 decimals, USD); None above the
    trove's liquidation price (the contract reverts NothingToLiquidate) or when it is the
    branch's last trove (OnlyOneTroveLeft)."""
    if isinstance(curve, _Bound):
        trove, branch = curve.curve, curve.branch
    else:  # asked without the ledger: the branch as read at the scan block
        trove, branch = curve, _read(curve)
    if trove.healthy(x) or branch.trove_count <= 1 or branch.total_stakes <= trove.stake:
        return None
    debt = trove.debt
    split = trove_split(debt.entire_debt, debt.entire_coll, bold_for_offsets(branch.bold_in_sp),
                        trove.price(x), trove.branch.mcr)
    after = redistributed(branch, trove.stake, split.debt_to_redistribute,
                          split.coll_to_redistribute)
    pool_left = branch.bold_in_sp - split.debt_to_offset  # the offset BOLD is burnt
    return LiquidationSale((), split.debt_to_offset // _WAD_TO_8DEC, 0, 1, None,
                           ledger_after=replace(after, bold_in_sp=pool_left),
                           debt_redistributed_usd_8dec=split.debt_to_redistribute // _WAD_TO_8DEC)
