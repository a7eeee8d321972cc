"""Where the store front's buyer stops: it buys collateral at the store's price and resells
it on the market, so it buys only while that pays.

The store's price is the oracle price x (1 - storeFrontPriceFactor x (1 - liquidationFactor))
(`quoteCollateral`); the market is the cascade's depth model, starting from the oracle price.
Selling q moves the market to `depth.sell(asset, q, market).price_after_usd`, falling in q.
The last unit is worth buying while the market after the sale is still at or above the
store's price (the marginal unit is bought at the store's price and resold at the market's);
so the buyer takes the largest q whose price after is >= the store's price, found by
bisection (the depth model is the only thing asked) to within 2^-30 (1e-9) of itself, never
above it: each step asks the model for a whole sale, and the combined model splits each one
by a bisection of its own, so halving to the last base unit would cost some 90 steps where
30 settle the amount far below any other error of the model. What it leaves stays in the
Comet's collateral reserves, unsold.

A pools-only depth model knows the ticks of the bitmap words it read: an amount that walks
past them has no price. Past the window the price is below every price inside it, so an
amount past it does not pay once an amount inside it does not; when the stop itself lies at
the window's edge (every amount inside pays) the model's OutsideReadWindowError is raised
(exit 65, "widen the read window"), never a guess.
"""

from __future__ import annotations

from scanner.cascade.depth import DepthModel
from scanner.cascade.uniswap_v3 import OutsideReadWindowError
from scanner.domain import Address

PRECISION_BITS = 30  # the stop to 2^-30 of itself


def buyer_stop_raw(depth: DepthModel, asset: Address, offered_raw: int, market_usd: float,
                   store_usd: float) -> int:
    """The largest amount (<= `offered_raw`, base units) whose resale from `market_usd`
    leaves the market at or above `store_usd`; 0 when the store is not below the market."""
    if offered_raw <= 0 or store_usd >= market_usd:
        return 0

    def pays(amount_raw: int) -> bool | None:  # None: past the ticks read
        try:
            return depth.sell(asset, amount_raw, market_usd).price_after_usd >= store_usd
        except OutsideReadWindowError:
            return None

    whole = pays(offered_raw)
    if whole:
        return offered_raw
    low, high, high_priced = 0, offered_raw, whole is not None  # pays(low), not pays(high)
    while high - low > max(1, low >> PRECISION_BITS):
        middle = (low + high) // 2
        answer = pays(middle)
        if answer:
            low = middle
        else:
            high, high_priced = middle, answer is not None
    if not high_priced:  # every amount inside the window pays: the stop is past it
        depth.sell(asset, high, market_usd)  # raises OutsideReadWindowError
    return low
