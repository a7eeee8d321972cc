"""What liquidating one Aave v2 position at an axis price sells: `liquidationCall`s of the
largest debt against the largest collateral (`liquidation.py`: a 50% close factor whatever the
health factor, the reserve's bonus, no protocol fee), repeated at the same price while the
pool still says the position is liquidatable. All the seized collateral goes to the
liquidator, who sells it. Debt left once no collateral remains is bad debt.
"""

from __future__ import annotations

from dataclasses import replace

from scanner.cascade.sale import MAX_CALLS_PER_PRICE, LiquidationSale, SoldCollateral, merge_sold
from scanner.domain import WAD
from scanner.protocols.aave_v2.liquidation import LiquidationOutcome
from scanner.protocols.aave_v2.rule import V2Curve


def liquidation_sale(curve: V2Curve, x_8dec: int) -> LiquidationSale | None:
    """Every call a liquidator makes at axis price x; None when the pool refuses the first."""
    sold: list[SoldCollateral] = []
    repaid: list[SoldCollateral] = []
    calls = 0
    eth_usd_8dec = curve.eth_usd_at(x_8dec)
    while calls < MAX_CALLS_PER_PRICE and not curve.healthy(x_8dec):
        outcome = curve.liquidation_call_at(x_8dec)
        if outcome is None or outcome.debt_repaid_raw == 0:
            break
        prices = curve.prices_at(x_8dec)
        unit = {leg.asset: leg.unit for leg in curve.legs}
        seized = outcome.collateral_seized_raw
        usd = seized * prices[outcome.collateral_asset] // unit[outcome.collateral_asset] * (
            eth_usd_8dec) // WAD
        sold.append(SoldCollateral(outcome.collateral_asset, "",
                                   len(str(unit[outcome.collateral_asset])) - 1, seized, usd,
                                   outcome.collateral_asset in curve.axis_members))
        debt_asset = outcome.debt_asset
        repaid.append(SoldCollateral(
            debt_asset, "", len(str(unit[debt_asset])) - 1, outcome.debt_repaid_raw,
            outcome.debt_repaid_raw * prices[debt_asset] // unit[debt_asset] * eth_usd_8dec // WAD,
            debt_asset in curve.axis_members))
        curve = after_call(curve, outcome)
        calls += 1
    if calls == 0:
        return None
    closed = not any(leg.debt_raw for leg in curve.legs) or not any(
        leg.collateral_raw for leg in curve.legs)
    return LiquidationSale(merge_sold(sold), sum(r.usd_8dec for r in repaid),
                           _bad_debt_8dec(curve, x_8dec), calls, None if closed else curve,
                           merge_sold(repaid))


def after_call(curve: V2Curve, outcome: LiquidationOutcome) -> V2Curve:
    legs = []
    for leg in curve.legs:
        if leg.asset == outcome.collateral_asset:
            leg = replace(leg, collateral_raw=leg.collateral_raw - outcome.collateral_seized_raw)
        if leg.asset == outcome.debt_asset:
            leg = replace(leg, debt_raw=leg.debt_raw - outcome.debt_repaid_raw)
        legs.append(leg)
    return curve.with_legs(tuple(legs))


def _bad_debt_8dec(curve: V2Curve, x_8dec: int) -> int:
    if any(leg.collateral_raw for leg in curve.legs):
        return 0
    prices = curve.prices_at(x_8dec)
    debt_eth_wei = sum(leg.debt_raw * prices[leg.asset] // leg.unit for leg in curve.legs)
    return debt_eth_wei * curve.eth_usd_at(x_8dec) // WAD
