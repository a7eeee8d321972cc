"""What liquidating one Morpho Blue position at an axis price sells.

Morpho Blue has no close factor: a liquidator may repay any part of the debt, and the one who
takes the most repays all of it (`liquidate(repaidShares = borrowShares)`), seizing the debt
times the incentive factor min(1.15, 1/(0.3 LLTV + 0.7)) in collateral -- capped at all the
collateral, when the debt is repaid only as far as that collateral covers (`rule.
liquidate_all_debt`). The seized collateral is sold on the market. Debt shares left with no
collateral are realized as bad debt by the same call.
"""

from __future__ import annotations

from scanner.cascade.sale import LiquidationSale, SoldCollateral
from scanner.protocols.morpho_blue.curve import MorphoCurve
from scanner.protocols.morpho_blue.rule import borrowed_assets, liquidate_all_debt


def liquidation_sale(curve: MorphoCurve, x: int) -> LiquidationSale | None:
    """One `liquidate` of the whole debt at axis price x (the curve's oracle terms)."""
    if curve.healthy(x) or curve.borrow_shares == 0:
        return None
    seized = liquidate_all_debt(curve.collateral_raw, curve.borrow_shares, curve.totals,
                                curve.oracle_price_at(x), curve.lltv_wad)
    if seized.seized_collateral_raw == 0:
        return None  # a zero-collateral liquidation: nothing to sell
    loan_unit, collateral_unit = 10**curve.loan.decimals, 10**curve.collateral.decimals
    loan_usd_8dec = curve._loan_usd_8dec(x)
    collateral_usd_8dec = curve._collateral_usd_8dec(x)
    sold = SoldCollateral("", curve.collateral.symbol, curve.collateral.decimals,
                          seized.seized_collateral_raw,
                          seized.seized_collateral_raw * collateral_usd_8dec // collateral_unit,
                          curve.moves > 0)
    left_shares = curve.borrow_shares - seized.repaid_shares
    bad_debt_8dec = 0
    if seized.seized_collateral_raw == curve.collateral_raw and left_shares > 0:
        bad_debt_8dec = borrowed_assets(left_shares, curve.totals) * loan_usd_8dec // loan_unit
    repaid_usd_8dec = seized.repaid_assets_raw * loan_usd_8dec // loan_unit
    repaid = SoldCollateral("", curve.loan.symbol, curve.loan.decimals, seized.repaid_assets_raw,
                            repaid_usd_8dec, curve.moves < 0)
    return LiquidationSale((sold,), repaid_usd_8dec, bad_debt_8dec, 1, None, (repaid,))
