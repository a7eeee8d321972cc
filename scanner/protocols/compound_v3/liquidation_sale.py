"""What liquidating one Comet position at an axis price sells.

`absorb` takes every held collateral in full and credits the account its value times each
asset's liquidationFactor (`rule.absorb_outcome`): the reserves pay out max(debt, credit)
(the debt cleared, plus any credit left to the account as a supply balance). The Comet then
holds the collateral and sells it through `buyCollateral` at the store-front price,
asset price x (1 - storeFrontPriceFactor x (1 - liquidationFactor)) -- but only while its
reserves are below targetReserves (else NotForSale: the collateral stays with the protocol
and nothing reaches the market). The buyer's payment refills the reserves.

Modelled: right after the absorb a buyer calls buyCollateral once per seized asset (in the
Comet's asset order), each call checking the reserves as the previous one left them, with the
largest base amount whose `quoteCollateral` does not exceed the seized amount. The reserves
are shared by every position of the Comet and used up across a cascade (`LEDGER`).

Assumption (arbitrage): the buyer sells what it bought on the market at once, so the bought
collateral is priced by the depth model from the market price (a buyer stopping once the
market falls to the store-front price is not modelled). Collateral the Comet held before the
scan block (getCollateralReserves) is not put on sale.

Bad debt: what the reserves pay out that the sale does not bring back --
max(debt - store-front proceeds - absorb credit of the collateral kept unsold, 0). The
discount the buyer gets (the market value minus the store-front price) is thus part of it
whenever the debt exceeds the proceeds.
"""

from __future__ import annotations

from dataclasses import replace

from scanner.cascade.sale import Ledger, LiquidationSale, SoldCollateral
from scanner.protocols.compound_v3.curve import CometCurve
from scanner.protocols.compound_v3.rule import (
    FACTOR_SCALE,
    CometAsset,
    CometPrices,
    absorb_outcome,
    div_price,
    mul_factor,
    mul_price,
)
from scanner.protocols.compound_v3.state import CometStoreFront


def _bind(curve: CometCurve, reserves_raw: int) -> CometCurve:
    return replace(curve, reserves_raw=reserves_raw)


LEDGER = Ledger(key=lambda curve: "reserves", read=lambda curve: curve.reserves_now_raw,
                bind=_bind)


def liquidation_sale(curve: CometCurve, x_8dec: int) -> LiquidationSale | None:
    """One `absorb` of the account at axis price x (USD, 8 dec, as the Comet sees it), then
    the store front's sales while it is open."""
    if curve.healthy(x_8dec):
        return None
    market, prices = curve.market, curve.prices_at(x_8dec)
    outcome = absorb_outcome(curve.user.basic, market.assets, prices, market.base_scale,
                             market.accrued_totals)
    reserves_raw = curve.reserves_now_raw - outcome.base_paid_out_raw
    sold: list[SoldCollateral] = []
    proceeds_raw = kept_credit_value_8dec = 0
    for asset in market.assets:
        seized_raw = outcome.seized_raw.get(asset.asset, 0)
        if not seized_raw:
            continue
        base_raw = buy_base_raw(market.store_front, asset, prices, market.base_scale,
                                seized_raw) if market.store_front.is_open(reserves_raw) else 0
        if base_raw == 0:
            kept_credit_value_8dec += mul_factor(outcome.seized_value_8dec[asset.asset],
                                                 asset.liquidation_factor_wad)
            continue
        bought_raw = quote_collateral_raw(market.store_front, asset, prices,
                                          market.base_scale, base_raw)
        reserves_raw += base_raw
        proceeds_raw += base_raw
        value_8dec = mul_price(bought_raw, prices.collateral_8dec[asset.asset], asset.scale)
        sold.append(SoldCollateral(asset.asset, market.symbols.get(asset.asset, ""),
                                   len(str(asset.scale)) - 1, bought_raw,
                                   curve._usd(value_8dec, x_8dec),
                                   asset.asset in curve.axis_members))
    debt_raw = -outcome.old_balance_raw
    kept_raw = div_price(kept_credit_value_8dec, prices.base_8dec, market.base_scale)
    shortfall_raw = max(debt_raw - proceeds_raw - kept_raw, 0)
    return LiquidationSale(tuple(sold), _usd_of_base(curve, debt_raw, x_8dec),
                           _usd_of_base(curve, shortfall_raw, x_8dec), 1, None,
                           ledger_after=reserves_raw)


def discounted_price_8dec(store: CometStoreFront, asset: CometAsset, price_8dec: int) -> int:
    """quoteCollateral's price: price x (1 - storeFrontPriceFactor x (1 - liquidationFactor))."""
    discount_wad = mul_factor(store.price_factor_wad, FACTOR_SCALE - asset.liquidation_factor_wad)
    return mul_factor(price_8dec, FACTOR_SCALE - discount_wad)


def quote_collateral_raw(store: CometStoreFront, asset: CometAsset, prices: CometPrices,
                         base_scale: int, base_raw: int) -> int:
    """quoteCollateral(asset, base_raw): collateral units, rounded down."""
    price = discounted_price_8dec(store, asset, prices.collateral_8dec[asset.asset])
    return prices.base_8dec * base_raw * asset.scale // price // base_scale


def buy_base_raw(store: CometStoreFront, asset: CometAsset, prices: CometPrices,
                 base_scale: int, amount_raw: int) -> int:
    """The largest base amount whose quote is at most `amount_raw` (more would revert
    InsufficientReserves); 0 when the store-front price is 0 (quoteCollateral reverts)."""
    price = discounted_price_8dec(store, asset, prices.collateral_8dec[asset.asset])
    if price == 0:
        return 0
    # quote(b) = floor(basePrice x b x scale / (price x baseScale)) <= amount
    return ((amount_raw + 1) * price * base_scale - 1) // (prices.base_8dec * asset.scale)


def _usd_of_base(curve: CometCurve, amount_raw: int, x_8dec: int) -> int:
    market = curve.market
    return curve._usd(mul_price(amount_raw, curve.prices_at(x_8dec).base_8dec, market.base_scale),
                      x_8dec)
