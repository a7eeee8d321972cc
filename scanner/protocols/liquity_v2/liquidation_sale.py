"""What liquidating one Liquity v2 trove at an axis price puts on the market: nothing.

`batchLiquidateTroves` offsets the trove's debt against the branch's Stability Pool, whose
depositors receive its collateral (less the gas compensation), and redistributes the rest to
the branch's other troves, debt and collateral alike; what exceeds the penalty stays claimable
by the owner. No one has to sell: the collateral goes to depositors and troves, not to the
market, so it moves no price here.

Known gap: the adapter does not read the Stability Pool's deposits, so the part of the debt it
would offset (repay) is not known; the debt repaid is reported as 0 rather than guessed (the
redistributed part is not repaid either: it moves to other troves), and there is no bad debt.
"""

from __future__ import annotations

from scanner.cascade.sale import LiquidationSale
from scanner.protocols.liquity_v2.curve import Liquity2Curve


def liquidation_sale(curve: Liquity2Curve, x: int) -> LiquidationSale | None:
    """One `batchLiquidateTroves([id])` with the axis at x (18 decimals, USD); None above the
    trove's liquidation price (the contract reverts NothingToLiquidate)."""
    if curve.healthy(x):
        return None
    return LiquidationSale((), 0, 0, 1, None)
