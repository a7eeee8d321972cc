"""Liquity v2's split of one liquidated trove between the Stability Pool and the other troves,
as TroveManager computes it (integers, wei and 18-decimal ratios).

- `batchLiquidateTroves` reads the branch pool's `getTotalBoldDeposits()` once and leaves
  MIN_BOLD_IN_SP (1 BOLD) in it -- all of it when the pool holds less; the rest is offset,
  trove after trove, until it is used up (`bold_for_offsets`);
- `_getOffsetAndRedistributionVals`: min(debt, what is left for offsets) is offset; the same
  share of the collateral goes to the pool, less the collateral gas compensation (1/200 of
  that share, at most 2 units, to the liquidator), capped at offset x (1 +
  LIQUIDATION_PENALTY_SP) / price; the rest of the debt is redistributed with the rest of the
  collateral plus the offset's surplus, capped at debt x (1 + LIQUIDATION_PENALTY_REDISTRIBUTION)
  / price; what exceeds a cap is the owner's surplus (CollSurplusPool). A redistribution pays
  no collateral gas compensation.

The penalties are immutables of each branch's TroveManager, `internal` there; only the
deployment's AddressesRegistry makes them public, and nothing the CollateralRegistry leads to
names it. They are taken as the deployed system's (liquity/bold Constants.sol, every branch):
LIQUIDATION_PENALTY_SP 5% (also the lowest the AddressesRegistry accepts), and
LIQUIDATION_PENALTY_REDISTRIBUTION = MCR - 100% (10% at MCR 110%, 20% at MCR 120%), never
above its 20% maximum.
"""

from __future__ import annotations

from dataclasses import dataclass

DECIMAL_PRECISION = 10**18
MIN_BOLD_IN_SP = 10**18
COLL_GAS_COMPENSATION_DIVISOR = 200
COLL_GAS_COMPENSATION_CAP = 2 * 10**18
LIQUIDATION_PENALTY_SP = 5 * 10**16
MAX_LIQUIDATION_PENALTY_REDISTRIBUTION = 20 * 10**16


def redistribution_penalty(mcr: int) -> int:
    """The deployed branches' LIQUIDATION_PENALTY_REDISTRIBUTION for their MCR."""
    return max(min(mcr - DECIMAL_PRECISION, MAX_LIQUIDATION_PENALTY_REDISTRIBUTION), 0)


def bold_for_offsets(total_bold_deposits: int) -> int:
    """What one batchLiquidateTroves may offset: the deposits less the BOLD left in the pool."""
    return total_bold_deposits - min(MIN_BOLD_IN_SP, total_bold_deposits)


@dataclass(frozen=True)
class TroveSplit:
    """Where one liquidated trove's debt (BOLD wei) and collateral (wei) go."""

    debt_to_offset: int
    coll_to_sp: int
    coll_gas_compensation: int
    debt_to_redistribute: int
    coll_to_redistribute: int
    coll_surplus: int


def _penalty_cap(coll: int, debt: int, penalty: int, price: int) -> tuple[int, int]:
    """`_getCollPenaltyAndSurplus`: (collateral seized, surplus)."""
    max_seized = debt * (DECIMAL_PRECISION + penalty) // price
    return (max_seized, coll - max_seized) if coll > max_seized else (coll, 0)


def trove_split(debt: int, coll: int, bold_for_offset: int, price: int, mcr: int) -> TroveSplit:
    """`_getOffsetAndRedistributionVals(entireDebt, entireColl, boldInSPForOffsets, price)`."""
    offset = to_sp = gas = surplus = sp_portion = 0
    if bold_for_offset > 0:
        offset = min(debt, bold_for_offset)
        sp_portion = coll * offset // debt
        gas = min(sp_portion // COLL_GAS_COMPENSATION_DIVISOR, COLL_GAS_COMPENSATION_CAP)
        to_sp, surplus = _penalty_cap(sp_portion - gas, offset, LIQUIDATION_PENALTY_SP, price)
    redistributed_debt, redistributed_coll = debt - offset, 0
    if redistributed_debt > 0 and coll - sp_portion > 0:
        redistributed_coll, surplus = _penalty_cap(coll - sp_portion + surplus,
                                                   redistributed_debt,
                                                   redistribution_penalty(mcr), price)
    return TroveSplit(offset, to_sp, gas, redistributed_debt, redistributed_coll, surplus)
