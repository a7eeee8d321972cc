"""What liquidating one Comet position at an axis price sells.

`absorb` takes every held collateral in full and credits the account its value times each
asset's liquidationFactor (`rule.absorb_outcome`); the Comet then sells that collateral
through `buyCollateral` at the store-front discount, and the buyers sell it on: the whole
balance reaches the market. The debt is cleared; what the discounted collateral does not
cover is paid by the protocol's reserves -- reported as bad debt.

Assumption (known gap): the buyer arbitrages the store front to the market, so the collateral
is priced by the depth model at the market price, not at `quoteCollateral`'s discounted one
(oracle x (1 - storeFrontPriceFactor x (1 - liquidationFactor))); a buyer stops once the
market falls to that price, which is not modelled, nor is `buyCollateral`'s NotForSale (the
store front is closed while reserves >= targetReserves: the collateral then stays with the
protocol). The adapter does not read storeFrontPriceFactor, targetReserves or getReserves
(the devnet's Comet does not expose them), so the protocol's loss on the discount is not in
the bad debt.
"""

from __future__ import annotations

from scanner.cascade.sale import LiquidationSale, SoldCollateral
from scanner.protocols.compound_v3.curve import CometCurve
from scanner.protocols.compound_v3.rule import absorb_outcome, div_price, mul_factor, mul_price


def liquidation_sale(curve: CometCurve, x_8dec: int) -> LiquidationSale | None:
    """One `absorb` of the account at axis price x (USD, 8 dec, as the Comet sees it)."""
    if curve.healthy(x_8dec):
        return None
    market, prices = curve.market, curve.prices_at(x_8dec)
    outcome = absorb_outcome(curve.user.basic, market.assets, prices, market.base_scale,
                             market.accrued_totals)
    scales = {a.asset: a.scale for a in market.assets}
    sold = tuple(
        SoldCollateral(asset, market.symbols.get(asset, ""), len(str(scales[asset])) - 1,
                       amount, curve._usd(outcome.seized_value_8dec[asset], x_8dec),
                       asset in curve.axis_members)
        for asset, amount in outcome.seized_raw.items() if amount)
    debt_raw = -outcome.old_balance_raw
    # absorb credits sum(value x liquidationFactor); a credit short of the debt is paid by
    # the reserves (the account's new balance is floored at 0)
    factors = {a.asset: a.liquidation_factor_wad for a in market.assets}
    credit_value_8dec = sum(mul_factor(value, factors[asset])
                            for asset, value in outcome.seized_value_8dec.items())
    credit_raw = div_price(credit_value_8dec, prices.base_8dec, market.base_scale)
    shortfall_raw = max(debt_raw - credit_raw, 0)
    return LiquidationSale(sold, _usd_of_base(curve, debt_raw, x_8dec),
                           _usd_of_base(curve, shortfall_raw, x_8dec), 1, None)


def _usd_of_base(curve: CometCurve, amount_raw: int, x_8dec: int) -> int:
    market = curve.market
    return curve._usd(mul_price(amount_raw, curve.prices_at(x_8dec).base_8dec, market.base_scale),
                      x_8dec)
