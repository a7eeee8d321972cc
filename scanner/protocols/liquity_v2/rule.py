"""Liquity v2 (BOLD) rules as pure integer functions, exactly as TroveManager computes them.

Units: debt and collateral in wei (18 decimals), prices and ratios 18-decimal (1e18 = 1.0).

- interest period: now - lastDebtUpdateTime; on a shut-down branch it stops at shutdownTime
  (0 for a trove updated after the shutdown);
- interest: weightedDebt * period / ONE_YEAR / 1e18 (floored), weightedDebt = debt * rate;
- a batched trove's debt is its share of the batch's recorded debt, accrued interest and
  accrued management fee, each `term * shares / totalShares` floored on its own, plus its
  pending redistribution gain;
- liquidatable (batchLiquidateTroves): ICR = coll * price / debt (floored) < MCR. There is no
  recovery mode: TCR < CCR only restricts borrowing, TCR < SCR lets anyone shut the branch
  down, and a shut-down branch still liquidates below MCR.
"""

from __future__ import annotations

from dataclasses import dataclass

from scanner.errors import InconsistentDataError
from scanner.protocols.liquity_v2.state import Liquity2Batch, Liquity2Trove

DECIMAL_PRECISION = 10**18
ONE_YEAR_SECONDS = 365 * 86_400
UINT256_MAX = 2**256 - 1


def interest_period(last_update: int, timestamp: int, shutdown_time: int) -> int:
    if shutdown_time == 0:
        if timestamp < last_update:
            raise InconsistentDataError(f"debt updated at {last_update}, after {timestamp}")
        return timestamp - last_update
    return shutdown_time - last_update if last_update < shutdown_time else 0


def calc_interest(weighted_debt: int, period_seconds: int) -> int:
    return weighted_debt * period_seconds // ONE_YEAR_SECONDS // DECIMAL_PRECISION


@dataclass(frozen=True)
class TroveDebt:
    """getLatestTroveData's entireDebt / entireColl and the parts of the debt."""

    entire_debt: int
    entire_coll: int
    recorded_debt: int
    accrued_interest: int
    accrued_management_fee: int


def latest_trove_debt(trove: Liquity2Trove, batch: Liquity2Batch | None, timestamp: int,
                      shutdown_time: int) -> TroveDebt:
    """The trove's entire debt and collateral at `timestamp` (TroveManager._getLatestTroveData)."""
    coll = trove.coll + trove.redist_coll_gain
    if batch is None:
        interest = calc_interest(trove.debt * trove.annual_interest_rate,
                                 interest_period(trove.last_debt_update_time, timestamp,
                                                 shutdown_time))
        return TroveDebt(trove.debt + trove.redist_debt_gain + interest, coll, trove.debt,
                         interest, 0)
    period = interest_period(batch.last_debt_update_time, timestamp, shutdown_time)
    batch_interest = calc_interest(batch.recorded_debt * batch.annual_interest_rate, period)
    batch_fee = calc_interest(batch.recorded_debt * batch.annual_management_fee, period)
    recorded = interest = fee = 0
    if batch.total_debt_shares > 0:
        shares, total = trove.batch_debt_shares, batch.total_debt_shares
        recorded = batch.recorded_debt * shares // total
        interest = batch_interest * shares // total
        fee = batch_fee * shares // total
    return TroveDebt(recorded + trove.redist_debt_gain + interest + fee, coll, recorded,
                     interest, fee)


def collateral_ratio(coll: int, debt: int, price: int) -> int:
    """LiquityMath._computeCR: coll * price / debt, uint256 max without debt."""
    return coll * price // debt if debt > 0 else UINT256_MAX


def liquidatable(coll: int, debt: int, price: int, mcr: int) -> bool:
    """batchLiquidateTroves' test for an active or zombie trove."""
    return collateral_ratio(coll, debt, price) < mcr
