"""What liquidating one Liquity v1 trove at an axis price puts on the market: nothing.

`liquidate(borrower)` offsets the trove's debt against the Stability Pool, whose depositors
receive its collateral (less the 0.5% gas compensation, which goes to the liquidator); what the
pool cannot cover is redistributed to the other troves, debt and collateral alike (`rule.
seized_coll_wei`, in normal and recovery mode). No one has to sell: the ether moves to
depositors and troves, not to the market, so a Liquity liquidation repays debt but moves no
price here (a depositor who sells later is a choice, not a forced sale). The debt repaid is
the part the Stability Pool offsets; the rest is redistributed, not lost: no bad debt.

The Stability Pool is the one at the scan block for every trove: liqscan does not deplete it
over the liquidations of one cascade.
"""

from __future__ import annotations

from scanner.cascade.sale import LiquidationSale
from scanner.protocols.liquity_v1.curve import LiquityCurve
from scanner.protocols.liquity_v1.rule import LiquidationMode

_WAD_TO_8DEC = 10**10


def liquidation_sale(curve: LiquityCurve, x: int) -> LiquidationSale | None:
    """One `liquidate` of the trove with the feed at x (wad, USD)."""
    mode = curve.mode(x)
    if mode is None:
        return None
    offset_wad = min(curve.debt_wad, curve.system.lusd_in_sp_wad)
    if mode is LiquidationMode.RECOVERY_CAPPED:
        offset_wad = curve.debt_wad  # the pool covers it whole (the rule's condition)
    return LiquidationSale((), offset_wad // _WAD_TO_8DEC, 0, 1, None)
