"""What liquidating one Comet position at an axis price sells.

`absorb` takes every held collateral in full and credits the account its value times each
asset's liquidationFactor (`rule.absorb_outcome`): the reserves pay out max(debt, credit)
(the debt cleared, plus any credit left to the account as a supply balance). The Comet then
holds the collateral and sells it through `buyCollateral` at the store-front price,
asset price x (1 - storeFrontPriceFactor x (1 - liquidationFactor)) -- but only while its
reserves are below targetReserves (else NotForSale: the collateral stays with the protocol
and nothing reaches the market). The buyer's payment refills the reserves.

Modelled: right after the absorb a buyer calls buyCollateral once per asset the Comet holds
(in the Comet's asset order), each call checking the reserves as the previous one left them.
On sale is the whole collateral reserve of the asset (`getCollateralReserves`): what this
absorb seized plus what the Comet already held -- at the scan block, or left unsold by
earlier absorbs of the cascade. The buyer resells on the market (the cascade's depth model,
`store_buyer.py`): it takes the largest amount whose resale leaves the market price at or
above the store's price, counting what it already resold at this axis price; without a
depth model (outside a cascade) it takes everything. It pays the largest base amount whose
`quoteCollateral` does not exceed that amount. Collateral of an asset that does not move
with the axis is bought whole (the cascade has no market for it). The reserves, the
collateral reserves and the buyer's resales are shared by every position of the Comet and
used up across a cascade (`LEDGER`).

Per position: the buyer's purchases count against the collateral this absorb seized first.
Bad debt: what the reserves pay out that the sale does not bring back --
max(debt - proceeds of its own collateral - absorb credit of its collateral kept unsold, 0).
The store-front discount (`store_discount_usd_8dec`): the oracle value of everything bought
minus the base paid for it, all of it -- the protocol's cost of selling at a discount,
reported whether or not the debt exceeds the proceeds (when it does, part of it is also in
the bad debt).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from scanner.cascade.depth import DepthModel
from scanner.cascade.sale import Ledger, LiquidationSale, SoldCollateral
from scanner.domain import Address
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
from scanner.protocols.compound_v3.state import CometStoreFront, StoreStock
from scanner.protocols.compound_v3.store_buyer import buyer_stop_raw

USD_8DEC = 10**8


def _bind(curve: CometCurve, stock: StoreStock) -> CometCurve:
    return curve.with_stock(stock)


def _resell(curve: CometCurve, depth: DepthModel) -> CometCurve:
    return curve.with_resale(depth)


LEDGER = Ledger(key=lambda curve: "store", read=lambda curve: curve.stock_now, bind=_bind,
                resell=_resell)


@dataclass
class _Sales:
    """The store front's sales after one absorb, and this position's share of them."""

    stock: StoreStock
    sold: list[SoldCollateral] = field(default_factory=list)
    own_proceeds_raw: int = 0  # base paid for the collateral this absorb seized
    kept_credit_8dec: int = 0  # absorb credit of its collateral left unsold
    discount_8dec: int = 0  # oracle value bought minus base paid (native)


def liquidation_sale(curve: CometCurve, x_8dec: int) -> LiquidationSale | None:
    """One `absorb` of the account at axis price x (USD, 8 dec, as the Comet sees it), then
    the store front's sales while it is open."""
    if curve.healthy(x_8dec):
        return None
    market, prices = curve.market, curve.prices_at(x_8dec)
    outcome = absorb_outcome(curve.user.basic, market.assets, prices, market.base_scale,
                             market.accrued_totals)
    stock = curve.stock_now
    held = dict(stock.collateral_raw)
    for address, seized_raw in outcome.seized_raw.items():
        held[address] = held.get(address, 0) + seized_raw
    sales = _Sales(replace(stock, reserves_raw=stock.reserves_raw - outcome.base_paid_out_raw,
                           collateral_raw=held, resold_at_8dec=x_8dec,
                           resold_raw=dict(stock.resold_at(x_8dec))))
    for asset in market.assets:
        _sell_asset(curve, x_8dec, asset, outcome.seized_raw.get(asset.asset, 0), sales)
    debt_raw = -outcome.old_balance_raw
    kept_raw = div_price(sales.kept_credit_8dec, prices.base_8dec, market.base_scale)
    shortfall_raw = max(debt_raw - sales.own_proceeds_raw - kept_raw, 0)
    return LiquidationSale(tuple(sales.sold), _usd_of_base(curve, debt_raw, x_8dec),
                           _usd_of_base(curve, shortfall_raw, x_8dec), 1, None,
                           ledger_after=sales.stock,
                           store_discount_usd_8dec=curve._usd(sales.discount_8dec, x_8dec))


def _sell_asset(curve: CometCurve, x_8dec: int, asset: CometAsset, seized_raw: int,
                sales: _Sales) -> None:
    """One buyCollateral of `asset` (if the store is open and the buyer wants any)."""
    market, prices, stock = curve.market, curve.prices_at(x_8dec), sales.stock
    offered_raw = stock.collateral_raw.get(asset.asset, 0)
    base_raw = bought_raw = 0
    if offered_raw and market.store_front.is_open(stock.reserves_raw):
        wanted_raw = _wanted_raw(curve, x_8dec, asset, offered_raw, stock)
        base_raw = buy_base_raw(market.store_front, asset, prices, market.base_scale,
                                wanted_raw) if wanted_raw else 0
        bought_raw = quote_collateral_raw(market.store_front, asset, prices, market.base_scale,
                                          base_raw) if base_raw else 0
    price_8dec = prices.collateral_8dec[asset.asset]
    own_raw = min(seized_raw, bought_raw)
    kept_raw = seized_raw - own_raw
    sales.kept_credit_8dec += mul_factor(mul_price(kept_raw, price_8dec, asset.scale),
                                         asset.liquidation_factor_wad)
    if not bought_raw:
        return
    sales.own_proceeds_raw += base_raw * own_raw // bought_raw
    value_8dec = mul_price(bought_raw, price_8dec, asset.scale)
    sales.discount_8dec += max(value_8dec - mul_price(base_raw, prices.base_8dec,
                                                      market.base_scale), 0)
    sales.stock = _after_buy(stock, asset.asset, base_raw, bought_raw,
                             asset.asset in curve.axis_members)
    sales.sold.append(SoldCollateral(asset.asset, market.symbols.get(asset.asset, ""),
                                     len(str(asset.scale)) - 1, bought_raw,
                                     curve._usd(value_8dec, x_8dec),
                                     asset.asset in curve.axis_members))


def _wanted_raw(curve: CometCurve, x_8dec: int, asset: CometAsset, offered_raw: int,
                stock: StoreStock) -> int:
    """What the buyer takes of `offered_raw`: all of it without a market to resell on (or
    off the axis), else where its resale, on top of what it already resold at x, would
    take the market below the store's price."""
    if curve.resale is None or asset.asset not in curve.axis_members:
        return offered_raw
    price_8dec = curve.prices_at(x_8dec).collateral_8dec[asset.asset]
    store_8dec = discounted_price_8dec(curve.market.store_front, asset, price_8dec)
    resold_raw = stock.resold_raw.get(asset.asset, 0)
    total_raw = buyer_stop_raw(curve.resale, asset.asset, resold_raw + offered_raw,
                               curve._usd(price_8dec, x_8dec) / USD_8DEC,
                               curve._usd(store_8dec, x_8dec) / USD_8DEC)
    return max(total_raw - resold_raw, 0)


def _after_buy(stock: StoreStock, asset: Address, base_raw: int, bought_raw: int,
               resold: bool) -> StoreStock:
    """The stock once the buyer paid `base_raw` for `bought_raw` (resold on the market when
    the asset moves with the axis)."""
    collateral = dict(stock.collateral_raw)
    collateral[asset] -= bought_raw
    again = dict(stock.resold_raw)
    if resold:
        again[asset] = again.get(asset, 0) + bought_raw
    return replace(stock, reserves_raw=stock.reserves_raw + base_raw, collateral_raw=collateral,
                   resold_raw=again)


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
