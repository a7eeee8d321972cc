"""What liquidating one Liquity v1 trove at an axis price puts on the market: nothing.

`liquidate(borrower)` (a batch of one) splits the trove's entire debt and collateral (less the
0.5% gas compensation, which goes to the liquidator) as `TroveManager` does:
- offset: min(debt, S) of the debt is cancelled against the Stability Pool's S LUSD, whose
  depositors receive the same share of the collateral (`_getOffsetAndRedistributionVals`);
- redistribution: the rest of the debt and collateral goes to the other troves, pro rata of
  their stakes (L_ETH, L_LUSDDebt grow by amount x 1e18 / totalStakes, the trove's own stake
  removed first);
- recovery mode: ICR <= 100% is redistributed whole (no offset); MCR <= ICR < TCR with the
  debt <= S is offset whole, the collateral capped at 1.1 x debt, the rest a surplus left to
  the borrower (`_getCappedOffsetVals`).
No one has to sell: the ether moves to depositors and troves, not to the market, so a Liquity
liquidation moves no price here (a depositor who sells later is a choice, not a forced sale).
The debt repaid is the offset; the redistributed debt is not lost: no bad debt.

The system is used up within a cascade (`LEDGER`): the pool shrinks by each offset, the
system's totals and trove count follow every liquidation (so does the TCR, hence recovery
mode), and each redistribution raises L_ETH / L_LUSDDebt, which raises the other troves'
entire debt and collateral -- their ICR changes, and the engine asks them again at every
round. The rounding remainders the contract carries between redistributions
(`lastETHError_Redistribution`, not public) are not read: under one wei per unit staked.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from scanner.cascade.sale import Ledger, LiquidationSale
from scanner.protocols.liquity_v1.curve import LiquityCurve
from scanner.protocols.liquity_v1.rule import (
    DECIMAL_PRECISION,
    MCR,
    ONE_HUNDRED_PCT,
    PERCENT_DIVISOR,
    LiquidationMode,
    compute_cr,
)
from scanner.protocols.liquity_v1.state import LiquitySystem

_WAD_TO_8DEC = 10**10


@dataclass(frozen=True)
class TroveSplit:
    """Where one liquidated trove's debt (wad) and collateral (wei) go."""

    debt_offset_wad: int
    coll_to_sp_wei: int
    debt_redistributed_wad: int
    coll_redistributed_wei: int
    gas_compensation_wei: int
    coll_surplus_wei: int


def trove_split(debt_wad: int, coll_wei: int, price_wad: int, lusd_in_sp_wad: int,
                mode: LiquidationMode) -> TroveSplit:
    """`_liquidateNormalMode` / `_liquidateRecoveryMode` for one trove."""
    if mode is LiquidationMode.RECOVERY_CAPPED:
        capped = debt_wad * MCR // price_wad
        gas = capped // PERCENT_DIVISOR
        return TroveSplit(debt_wad, capped - gas, 0, 0, gas, coll_wei - capped)
    gas = coll_wei // PERCENT_DIVISOR
    to_liquidate = coll_wei - gas
    underwater = compute_cr(coll_wei, debt_wad, price_wad) <= ONE_HUNDRED_PCT
    if (mode is LiquidationMode.RECOVERY and underwater) or lusd_in_sp_wad == 0:
        return TroveSplit(0, 0, debt_wad, to_liquidate, gas, 0)
    offset = min(debt_wad, lusd_in_sp_wad)
    to_sp = to_liquidate * offset // debt_wad
    return TroveSplit(offset, to_sp, debt_wad - offset, to_liquidate - to_sp, gas, 0)


def system_after(system: LiquitySystem, split: TroveSplit, stake: int) -> LiquitySystem:
    """The system once the trove is closed: the offset and everything paid out leave it, the
    redistributed part stays (in the DefaultPool) and raises L_ETH / L_LUSDDebt."""
    stakes = max(system.total_stakes - stake, 0)
    l_eth, l_debt = system.l_eth, system.l_lusd_debt
    if stakes and split.debt_redistributed_wad:
        l_eth += split.coll_redistributed_wei * DECIMAL_PRECISION // stakes
        l_debt += split.debt_redistributed_wad * DECIMAL_PRECISION // stakes
    left_wei = split.coll_to_sp_wei + split.gas_compensation_wei + split.coll_surplus_wei
    return replace(system, system_coll_wei=system.system_coll_wei - left_wei,
                   system_debt_wad=system.system_debt_wad - split.debt_offset_wad,
                   lusd_in_sp_wad=system.lusd_in_sp_wad - split.debt_offset_wad,
                   trove_count=system.trove_count - 1, l_eth=l_eth, l_lusd_debt=l_debt,
                   total_stakes=stakes)


def _bind(curve: LiquityCurve, system: LiquitySystem) -> LiquityCurve:
    """The trove under the system as the cascade left it (its pending rewards included)."""
    if curve.trove is None:
        return replace(curve, system=system)
    debt_wad, coll_wei = curve.trove.entire(system)
    return replace(curve, debt_wad=debt_wad, coll_wei=coll_wei, system=system)


LEDGER = Ledger(key=lambda curve: "system", read=lambda curve: curve.system, bind=_bind)


def liquidation_sale(curve: LiquityCurve, x: int) -> LiquidationSale | None:
    """One `liquidate` of the trove with the feed at x (wad, USD)."""
    mode = curve.mode(x)
    if mode is None:
        return None
    system = curve.system
    split = trove_split(curve.debt_wad, curve.coll_wei, curve.price(x), system.lusd_in_sp_wad,
                        mode)
    stake = curve.trove.stake if curve.trove is not None else 0
    return LiquidationSale((), split.debt_offset_wad // _WAD_TO_8DEC, 0, 1, None,
                           ledger_after=system_after(system, split, stake),
                           debt_redistributed_usd_8dec=split.debt_redistributed_wad
                           // _WAD_TO_8DEC)
