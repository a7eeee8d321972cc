"""Liquity v1 rules as pure integer functions, exactly as the deployed TroveManager computes them
(liquity/dev `TroveManager.sol`, `LiquityBase.sol`, `LiquityMath.sol`, mainnet April 2021).

Units: ETH amounts in wei, LUSD amounts and the price (USD per ETH) in wad (1e18), ratios in
wad (1.1e18 = 110%), `L_ETH` / `L_LUSDDebt` and snapshots per unit staked, scaled by 1e18.

- pending reward = stake * (L - snapshot) / 1e18, 0 when L == snapshot or the trove is not
  active (getPendingETHReward / getPendingLUSDDebtReward); entire = stored + pending
  (getEntireDebtAndColl);
- CR = coll * price / debt, floored; 2**256 - 1 without debt (_computeCR); TCR over the whole
  system (ActivePool + DefaultPool, so every pending reward is in it);
- `liquidate(borrower)` at price P (batchLiquidateTroves of one trove), with S the Stability
  Pool's getTotalLUSDDeposits():
    normal mode (TCR >= CCR 150%): liquidates when ICR < MCR 110%;
    recovery mode (TCR < CCR): ICR < MCR liquidates (ICR <= 100%: redistribution, else offset
    and redistribution); MCR <= ICR < TCR liquidates when S > 0 and the entire debt <= S
    (an offset capped at 1.1 x debt in collateral, the rest a surplus left to the borrower);
    anything else is left alone ("TroveManager: nothing to liquidate");
    the last trove in the system is never liquidated.
- gas compensation: coll / 200 (0.5%) of what leaves the trove goes to the liquidator.
"""

from __future__ import annotations

from enum import StrEnum

DECIMAL_PRECISION = 10**18
ONE_HUNDRED_PCT = 10**18
MCR = 11 * 10**17
CCR = 15 * 10**17
PERCENT_DIVISOR = 200  # coll / 200: the 0.5% collateral gas compensation
MAX_CR = 2**256 - 1
STATUS_ACTIVE = 1


class LiquidationMode(StrEnum):
    NORMAL = "normal"  # normal mode, ICR < MCR
    RECOVERY = "recovery"  # recovery mode, ICR < MCR
    RECOVERY_CAPPED = "recovery_capped"  # recovery mode, MCR <= ICR < TCR, the pool covers it


def pending_reward(stake: int, per_unit_staked_now: int, snapshot: int, active: bool) -> int:
    """A trove's share of what redistributions added since its snapshot (floored)."""
    per_unit = per_unit_staked_now - snapshot
    if per_unit == 0 or not active:
        return 0
    return stake * per_unit // DECIMAL_PRECISION


def compute_cr(coll: int, debt: int, price: int) -> int:
    """LiquityMath._computeCR: coll * price / debt (floored), the maximum without debt."""
    return coll * price // debt if debt > 0 else MAX_CR


def liquidation_mode(coll_wei: int, debt_wad: int, system_coll_wei: int,
                     system_debt_wad: int, lusd_in_sp_wad: int, trove_count: int,
                     price_wad: int) -> LiquidationMode | None:
    """How `liquidate(borrower)` would treat this trove at `price_wad`; None: it would revert
    ("nothing to liquidate", or the last trove)."""
    if trove_count <= 1 or debt_wad == 0:
        return None
    icr = compute_cr(coll_wei, debt_wad, price_wad)
    tcr = compute_cr(system_coll_wei, system_debt_wad, price_wad)
    if tcr >= CCR:
        return LiquidationMode.NORMAL if icr < MCR else None
    if icr < MCR:
        return LiquidationMode.RECOVERY
    if lusd_in_sp_wad > 0 and icr < tcr and debt_wad <= lusd_in_sp_wad:
        return LiquidationMode.RECOVERY_CAPPED
    return None


def seized_coll_wei(coll_wei: int, debt_wad: int, price_wad: int,
                    mode: LiquidationMode) -> int:
    """Collateral sent to the Stability Pool and redistributed (the gas compensation, 0.5%,
    goes to the liquidator; a capped offset leaves the surplus above 1.1 x debt)."""
    if mode is LiquidationMode.RECOVERY_CAPPED:
        capped = debt_wad * MCR // price_wad
        return capped - capped // PERCENT_DIVISOR
    return coll_wei - coll_wei // PERCENT_DIVISOR
