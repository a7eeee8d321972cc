"""What liquidating one Aave v3 position at an axis price sells: `liquidationCall`s of the
largest debt against the largest collateral (one collateral per call, `liquidation_call.py`:
each revision's close factor, bonus, protocol fee and dust rule), repeated at the same price
while the pool still says the position is liquidatable.

The liquidator's share is sold on the market; the protocol fee stays with the treasury as
aTokens and is not sold. Debt left once no collateral remains is bad debt (v3.3+ burns it as
a reserve deficit; older revisions leave it on the books: the same amount).
"""

from __future__ import annotations

from dataclasses import replace

from scanner.cascade.sale import MAX_CALLS_PER_PRICE, LiquidationSale, SoldCollateral, merge_sold
from scanner.protocols.aave_v3.generic_logic import AccountLeg, leg_price_8dec
from scanner.protocols.aave_v3.liquidation_call import LiquidationCallOutcome
from scanner.protocols.aave_v3.rule import AaveCurve


def liquidation_sale(curve: AaveCurve, x_8dec: int) -> LiquidationSale | None:
    """Every call a liquidator makes at axis price x; None when the pool refuses the first."""
    sold: list[SoldCollateral] = []
    repaid: list[SoldCollateral] = []
    calls = 0
    while calls < MAX_CALLS_PER_PRICE and not curve.healthy(x_8dec):
        outcome = curve.liquidation_call_at(x_8dec)
        if outcome is None or outcome.debt_repaid_raw == 0:
            break  # dust rule (v3.3+) or nothing left to seize: the call reverts
        prices = curve.prices_at(x_8dec)
        collateral, debt = _leg(curve, outcome.collateral_asset), _leg(curve, outcome.debt_asset)
        price_8dec = leg_price_8dec(collateral, prices)
        sold.append(SoldCollateral(
            collateral.asset, "", _decimals(collateral.unit), outcome.collateral_to_liquidator_raw,
            outcome.collateral_to_liquidator_raw * price_8dec // collateral.unit,
            collateral.price_asset in curve.axis_members))
        repaid.append(SoldCollateral(
            debt.asset, "", _decimals(debt.unit), outcome.debt_repaid_raw,
            outcome.debt_repaid_raw * leg_price_8dec(debt, prices) // debt.unit,
            debt.price_asset in curve.axis_members))
        curve = after_call(curve, outcome)
        calls += 1
    if calls == 0:
        return None
    return LiquidationSale(merge_sold(sold), sum(r.usd_8dec for r in repaid),
                           _bad_debt_8dec(curve, x_8dec), calls,
                           None if _closed(curve) else curve, merge_sold(repaid))


def after_call(curve: AaveCurve, outcome: LiquidationCallOutcome) -> AaveCurve:
    """The position once the call moved its balances (collateral: liquidator's share + fee)."""
    legs = []
    for leg in curve.legs:
        if leg.asset == outcome.collateral_asset:
            leg = replace(leg, collateral_raw=leg.collateral_raw - outcome.collateral_seized_raw)
        if leg.asset == outcome.debt_asset:
            leg = replace(leg, debt_raw=leg.debt_raw - outcome.debt_repaid_raw)
        legs.append(leg)
    return curve.with_legs(tuple(legs))


def _leg(curve: AaveCurve, asset: str) -> AccountLeg:
    (leg,) = [leg for leg in curve.legs if leg.asset == asset]
    return leg


def _decimals(unit: int) -> int:
    return len(str(unit)) - 1


def _closed(curve: AaveCurve) -> bool:
    return not any(leg.debt_raw for leg in curve.legs) or not any(
        leg.collateral_raw for leg in curve.legs)


def _bad_debt_8dec(curve: AaveCurve, x_8dec: int) -> int:
    if any(leg.collateral_raw for leg in curve.legs):
        return 0
    prices = curve.prices_at(x_8dec)
    return sum(leg.debt_raw * leg_price_8dec(leg, prices) // leg.unit for leg in curve.legs)
