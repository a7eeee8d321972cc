"""Morpho Blue's rule, integer-exact: interest accrual, shares, health, liquidation.

Pure integer math mirroring npm @morpho-org/morpho-blue 1.0.0 `src/Morpho.sol`
(`_accrueInterest`, `_isHealthy`, `liquidate`) and its libraries (`MathLib`,
`SharesMathLib`, `ConstantsLib`). Nothing here reads the chain.

Units: token base units (`_raw`), shares, WAD (1e18) rates and LLTV, and the oracle price
scaled by 1e36: loan-token base units per collateral-token base unit, times 1e36.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

WAD = 10**18
ORACLE_PRICE_SCALE = 10**36
LIQUIDATION_CURSOR_WAD = 3 * 10**17
MAX_LIQUIDATION_INCENTIVE_FACTOR_WAD = 115 * 10**16
VIRTUAL_SHARES = 10**6
VIRTUAL_ASSETS = 1


# --- MathLib / SharesMathLib -------------------------------------------------------------


def mul_div_down(x: int, y: int, d: int) -> int:
    return x * y // d


def mul_div_up(x: int, y: int, d: int) -> int:
    return (x * y + (d - 1)) // d


def w_mul_down(x: int, y: int) -> int:
    return x * y // WAD


def w_taylor_compounded(rate_wad: int, seconds: int) -> int:
    """e^(rate*n) - 1 to the third term, each term floored, as MathLib does."""
    first = rate_wad * seconds
    second = mul_div_down(first, first, 2 * WAD)
    third = mul_div_down(second, first, 3 * WAD)
    return first + second + third


def to_shares_down(assets: int, total_assets: int, total_shares: int) -> int:
    return mul_div_down(assets, total_shares + VIRTUAL_SHARES, total_assets + VIRTUAL_ASSETS)


def to_assets_down(shares: int, total_assets: int, total_shares: int) -> int:
    return mul_div_down(shares, total_assets + VIRTUAL_ASSETS, total_shares + VIRTUAL_SHARES)


def to_shares_up(assets: int, total_assets: int, total_shares: int) -> int:
    return mul_div_up(assets, total_shares + VIRTUAL_SHARES, total_assets + VIRTUAL_ASSETS)


def to_assets_up(shares: int, total_assets: int, total_shares: int) -> int:
    return mul_div_up(shares, total_assets + VIRTUAL_ASSETS, total_shares + VIRTUAL_SHARES)


# --- market state ------------------------------------------------------------------------


@dataclass(frozen=True)
class MarketTotals:
    """`Morpho.market(id)`: the stored totals, as of `last_update`."""

    total_supply_assets: int
    total_supply_shares: int
    total_borrow_assets: int
    total_borrow_shares: int
    last_update: int  # timestamp
    fee_wad: int


def accrue_interest(market: MarketTotals, borrow_rate_wad: int, timestamp: int,
                    has_irm: bool = True) -> MarketTotals:
    """The totals `_accrueInterest` would store at `timestamp` given the IRM's rate (its
    `borrowRateView` at the same state); the fee is minted as supply shares."""
    elapsed = timestamp - market.last_update
    if elapsed < 0:
        raise ValueError(f"timestamp {timestamp} is before the market's last update")
    if elapsed == 0:
        return market
    if not has_irm:
        return replace(market, last_update=timestamp)
    interest = w_mul_down(market.total_borrow_assets,
                          w_taylor_compounded(borrow_rate_wad, elapsed))
    supply_assets = market.total_supply_assets + interest
    supply_shares = market.total_supply_shares
    if market.fee_wad:
        fee_assets = w_mul_down(interest, market.fee_wad)
        supply_shares += to_shares_down(fee_assets, supply_assets - fee_assets, supply_shares)
    return MarketTotals(
        total_supply_assets=supply_assets,
        total_supply_shares=supply_shares,
        total_borrow_assets=market.total_borrow_assets + interest,
        total_borrow_shares=market.total_borrow_shares,
        last_update=timestamp,
        fee_wad=market.fee_wad,
    )


# --- one position ------------------------------------------------------------------------


def borrowed_assets(borrow_shares: int, market: MarketTotals) -> int:
    """Debt as `_isHealthy` counts it: shares rounded UP to assets."""
    return to_assets_up(borrow_shares, market.total_borrow_assets, market.total_borrow_shares)


def max_borrow(collateral_raw: int, price_1e36: int, lltv_wad: int) -> int:
    return w_mul_down(mul_div_down(collateral_raw, price_1e36, ORACLE_PRICE_SCALE), lltv_wad)


def is_healthy(collateral_raw: int, borrow_shares: int, market: MarketTotals, price_1e36: int,
               lltv_wad: int) -> bool:
    if borrow_shares == 0:
        return True
    return max_borrow(collateral_raw, price_1e36, lltv_wad) >= borrowed_assets(borrow_shares,
                                                                               market)


def liquidation_price_1e36(collateral_raw: int, debt_raw: int, lltv_wad: int) -> int | None:
    """The lowest oracle price at which the position is healthy: healthy at p, liquidatable
    at p - 1 (None without collateral, or without debt: no price liquidates it).

    maxBorrow(p) = floor(floor(c*p/1e36) * lltv / 1e18) is non-decreasing in p, so the
    boundary is exact: the smallest m with floor(m*lltv/1e18) >= debt, then the smallest p
    with floor(c*p/1e36) >= m.
    """
    if debt_raw == 0 or collateral_raw == 0:
        return None
    quoted = -(-debt_raw * WAD // lltv_wad)  # ceil: smallest m with m*lltv >= debt*1e18
    return -(-quoted * ORACLE_PRICE_SCALE // collateral_raw)


def liquidation_incentive_factor_wad(lltv_wad: int) -> int:
    """min(1.15, 1 / (1 - 0.3 * (1 - LLTV))), rounded as `liquidate` does."""
    denominator = WAD - w_mul_down(LIQUIDATION_CURSOR_WAD, WAD - lltv_wad)
    return min(MAX_LIQUIDATION_INCENTIVE_FACTOR_WAD, mul_div_down(WAD, WAD, denominator))


@dataclass(frozen=True)
class Liquidation:
    seized_collateral_raw: int
    repaid_shares: int
    repaid_assets_raw: int


def _uncapped_seized_raw(borrow_shares: int, market: MarketTotals, price_1e36: int,
                        factor_wad: int) -> int:
    debt_down = to_assets_down(borrow_shares, market.total_borrow_assets,
                               market.total_borrow_shares)
    return mul_div_down(w_mul_down(debt_down, factor_wad), ORACLE_PRICE_SCALE, price_1e36)


def seized_all_debt_raw(collateral_raw: int, borrow_shares: int, market: MarketTotals,
                        price_1e36: int, factor_wad: int) -> int:
    """The collateral `liquidate_all_debt` seizes, alone (what a scan reports)."""
    return min(collateral_raw,
               _uncapped_seized_raw(borrow_shares, market, price_1e36, factor_wad))


def liquidate_all_debt(collateral_raw: int, borrow_shares: int, market: MarketTotals,
                       price_1e36: int, lltv_wad: int) -> Liquidation:
    """`liquidate(..., seizedAssets=0, repaidShares=borrowShares)`, capped at the collateral:
    when the whole debt is worth more collateral than there is, the liquidator seizes every
    unit (`liquidate(seizedAssets=collateral)`)."""
    factor = liquidation_incentive_factor_wad(lltv_wad)
    total_assets, total_shares = market.total_borrow_assets, market.total_borrow_shares
    seized = _uncapped_seized_raw(borrow_shares, market, price_1e36, factor)
    shares = borrow_shares
    if seized > collateral_raw:
        seized = collateral_raw
        quoted = mul_div_up(seized, price_1e36, ORACLE_PRICE_SCALE)
        shares = to_shares_up(mul_div_up(quoted, WAD, factor), total_assets, total_shares)
    return Liquidation(seized, shares, to_assets_up(shares, total_assets, total_shares))
