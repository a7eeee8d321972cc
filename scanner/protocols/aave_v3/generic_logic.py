"""Integer mirror of Aave v3 `GenericLogic.calculateUserAccountData`.

Everything here is pure integer math on already-read state (no RPC, no I/O). The goal is
bit-exactness: `account_totals` must equal `Pool.getUserAccountData` at the same block for
(totalCollateralBase, totalDebtBase, currentLiquidationThreshold, healthFactor).

Three arithmetics exist (see `arithmetic_for_revision` for the revision numbers):

* V3_0 (v3.0.x, v3.1): eMode membership is the reserve's own `emode_category`; a category
  price source (if set) prices every asset of the category, collateral and debt.
  value_i = balance_i * price_i // unit_i (floor);  avgLT = Σ value_i*LT_i // Σ value_i;
  HF = wadDiv(percentMul(Σ value_i, avgLT), Σ debt_j)        (half-up, half-up)
* V3_2 (v3.2 - v3.4): as V3_0 but the eMode LT applies when bit `reserve_id` is set in the
  category's collateral bitmap, and every asset is priced by its own oracle price.
* V3_5 (v3.5+): collateral value floored, debt value ceiled (`MathUtils.mulDivCeil`);
  HF = wadDiv(Σ value_i*LT_i, Σ debt_j) // 1e4 -- no truncated average LT.

Balances are taken as given (`AaveUserReserve.supplied_raw` / `debt_raw`); the adapter is
responsible for accruing them the way the pool does at that revision.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from scanner.domain import WAD, Address
from scanner.errors import ConfigError, InconsistentDataError
from scanner.protocols.aave_v3.state import AaveAccount, AaveMarketState, AaveReserve

MAX_UINT256 = 2**256 - 1
PERCENTAGE_FACTOR = 10_000
HALF_PERCENTAGE_FACTOR = 5_000


class HealthArithmetic(StrEnum):
    V3_0 = "v3.0"  # v3.0.x and v3.1: category eMode + eMode oracle, truncated avgLT
    V3_2 = "v3.2"  # v3.2 - v3.4: bitmap eMode, truncated avgLT
    V3_5 = "v3.5"  # v3.5+: bitmap eMode, floor collateral / ceil debt, exact Σ(C·LT)


# Highest POOL_REVISION whose arithmetic we have read; newer revisions must be reviewed first.
log = logging.getLogger(__name__)

_KNOWN_REVISIONS: dict[int, HealthArithmetic] = {
    1: HealthArithmetic.V3_0,
    2: HealthArithmetic.V3_0,
    3: HealthArithmetic.V3_0,
    4: HealthArithmetic.V3_0,
    5: HealthArithmetic.V3_2,
    6: HealthArithmetic.V3_2,
    7: HealthArithmetic.V3_2,
    8: HealthArithmetic.V3_2,
    9: HealthArithmetic.V3_5,
    10: HealthArithmetic.V3_5,
    11: HealthArithmetic.V3_5,
}


def arithmetic_for_revision(revision: int) -> HealthArithmetic:
    """Health-factor arithmetic used by a Pool with this `POOL_REVISION()`.

    Where each number was read:
      1  v3.0.x: `POOL_REVISION = 0x1` in npm @aave/core-v3 1.19.3
         `contracts/protocol/pool/Pool.sol` (the devnet's pool).
      2  v3.0.x: `POOL_REVISION = 0x2` seen in forks of aave-v3-core sources; which official
         release shipped it is UNVERIFIED (every v3.0.x GenericLogic has the same arithmetic).
      3  v3.0.2: `POOL_REVISION = 3` in BGD `PoolInstance` built on `aave-v3-factory/core`.
      4  v3.1:   aave-v3-origin `docs/3.2/3.1_3.2_L2PoolDiff.md` shows `POOL_REVISION = 4` -> `5`.
      5  v3.2.0: same diff (first revision with the eMode collateral bitmap).
      6  v3.2.x: seen in L2 Pool deployment diffs carrying the "broken by Aave 3.2" workaround;
         the exact release is UNVERIFIED (it is between 3.2.0 and 3.3; arithmetic unchanged).
      7  v3.3:   `PoolInstance` with the UMBRELLA constant and string error codes; the v3.4 doc
         (`docs/3.4/Aave-v3.4-features.md`) says "POOL_REVISION from 6 to 7" but the shipped 3.4
         code (custom errors, interest-strategy constructor) carries 8 -- see next line.
      8  v3.4:   `PoolInstance(provider, interestRateStrategy)` with 8; aave/interface states
         "Pool.multicall was introduced in Aave v3.4, which bumped POOL_REVISION to 8".
      9  v3.5:   aave-v3-origin `src/contracts/instances/PoolInstance.sol` = 9 with the v3.5
         `GenericLogic` (mulDivCeil debt, Σ(C·LT).wadDiv(debt)/1e4).
      10 v3.6, 11 v3.7: `docs/3.7/Aave-v3.7-changelog.md` "POOL_REVISION bumped from 10 to 11";
         the 3.6/3.7 changelogs leave `calculateUserAccountData` arithmetic as in 3.5.

    A revision newer than the newest reviewed one gets the newest arithmetic with a warning:
    a pool upgrade must not stop every scan, and the scan compares this mirror with the pool's
    own getUserAccountData for every account, so a changed rule shows up as mismatches.
    Revision 0 or below is not an Aave pool: ConfigError.
    """
    arithmetic = _KNOWN_REVISIONS.get(revision)
    if arithmetic is not None:
        return arithmetic
    newest = max(_KNOWN_REVISIONS)
    if revision > newest:
        log.warning("pool revision %d is newer than %d, the newest reviewed: using its "
                    "arithmetic; review GenericLogic and add it to arithmetic_for_revision",
                    revision, newest)
        return _KNOWN_REVISIONS[newest]
    raise ConfigError(
        f"pool revision {revision} is not an Aave v3 pool revision: check the market's "
        "pool_addresses_provider"
    )


@dataclass(frozen=True)
class AccountTotals:
    """What `getUserAccountData` reports (minus ltv / available borrows)."""

    collateral_8dec: int
    debt_8dec: int
    avg_lt_bps: int
    health_factor_wad: int
    weighted_collateral: int = 0  # Σ value_i * LT_i (8 + 4 decimals), before any flooring


@dataclass(frozen=True)
class AccountLeg:
    """One user reserve, with everything price-independent already resolved."""

    asset: Address
    price_asset: Address  # whose price values this leg (the eMode price source on v3.0/3.1)
    unit: int  # 10**decimals
    collateral_raw: int  # 0 when the leg does not count as collateral
    debt_raw: int
    lt_bps: int  # effective LT (eMode LT when the leg is in the user's category)
    bonus_bps: int  # effective liquidation bonus, same rule as lt_bps


# --- the libraries' rounding, exactly ---------------------------------------------------


def percent_mul(value: int, percentage_bps: int) -> int:
    """PercentageMath.percentMul: half-up."""
    return (value * percentage_bps + HALF_PERCENTAGE_FACTOR) // PERCENTAGE_FACTOR


def wad_div(a: int, b: int) -> int:
    """WadRayMath.wadDiv: half-up (unchanged up to v3.7)."""
    return (a * WAD + b // 2) // b


def mul_div_ceil(a: int, b: int, c: int) -> int:
    """MathUtils.mulDivCeil (v3.5+)."""
    return -((-a * b) // c)


# --- resolving an account into legs -----------------------------------------------------


def oracle_prices_8dec(market: AaveMarketState) -> dict[Address, int]:
    """Every price the mirror may need at the scan block: reserves and eMode price sources."""
    prices = {asset: reserve.price_8dec for asset, reserve in market.reserves.items()}
    for emode in market.emodes.values():
        if emode.price_source is not None and emode.price_source_8dec != 0:
            prices.setdefault(emode.price_source, emode.price_source_8dec)
    return prices


def _in_emode(
    account: AaveAccount,
    market: AaveMarketState,
    reserve: AaveReserve,
    arithmetic: HealthArithmetic,
) -> bool:
    category = account.emode_category
    if category == 0:
        return False
    if arithmetic is HealthArithmetic.V3_0:
        return reserve.emode_category == category
    emode = market.emodes[category]
    if emode.collateral_bitmap is None:
        raise InconsistentDataError(
            f"eMode {category} of {market.market_key} has no collateral bitmap on a v3.2+ pool; "
            "read getEModeCategoryCollateralBitmap"
        )
    return (emode.collateral_bitmap >> reserve.reserve_id) & 1 == 1


def _price_asset(
    account: AaveAccount,
    market: AaveMarketState,
    reserve: AaveReserve,
    arithmetic: HealthArithmetic,
) -> Address:
    # Only v3.0/3.1 has the eMode oracle; it applies to collateral AND debt of the category.
    if arithmetic is not HealthArithmetic.V3_0 or account.emode_category == 0:
        return reserve.asset
    emode = market.emodes[account.emode_category]
    if emode.price_source is None or reserve.emode_category != account.emode_category:
        return reserve.asset
    return emode.price_source


def account_legs(
    account: AaveAccount, market: AaveMarketState, arithmetic: HealthArithmetic
) -> tuple[AccountLeg, ...]:
    """Price-independent view of an account, in reserve-id order."""
    if account.emode_category != 0 and account.emode_category not in market.emodes:
        raise InconsistentDataError(
            f"account {account.account} is in eMode {account.emode_category}, "
            f"which {market.market_key} does not list; re-read the eMode categories"
        )
    emode = market.emodes.get(account.emode_category)
    legs: list[AccountLeg] = []
    for user_reserve in account.reserves:
        reserve = market.reserves.get(user_reserve.asset)
        if reserve is None:
            raise InconsistentDataError(
                f"account {account.account} holds {user_reserve.asset}, "
                f"which is not a reserve of {market.market_key}; re-read the reserve list"
            )
        lt_bps, bonus_bps = reserve.lt_bps, reserve.bonus_bps
        if emode is not None and _in_emode(account, market, reserve, arithmetic):
            lt_bps, bonus_bps = emode.lt_bps, emode.bonus_bps
        # The reserve's own LT decides whether it counts at all, even inside eMode.
        counts = user_reserve.used_as_collateral and reserve.lt_bps != 0
        leg = AccountLeg(
            asset=reserve.asset,
            price_asset=_price_asset(account, market, reserve, arithmetic),
            unit=10**reserve.decimals,
            collateral_raw=user_reserve.supplied_raw if counts else 0,
            debt_raw=user_reserve.debt_raw,
            lt_bps=lt_bps,
            bonus_bps=bonus_bps,
        )
        legs.append(leg)
    # Sums are order-independent, but a stable order keeps downstream output deterministic.
    return tuple(sorted(legs, key=lambda leg: market.reserves[leg.asset].reserve_id))


# --- the account data -------------------------------------------------------------------


def leg_price_8dec(leg: AccountLeg, prices_8dec: Mapping[Address, int]) -> int:
    """Oracle price of a leg; a zero eMode price falls back to the asset's own price."""
    price = prices_8dec.get(leg.price_asset)
    if not price and leg.price_asset != leg.asset:
        # GenericLogic v3.0: `eModeAssetPrice != 0 && ... ? eModeAssetPrice : getAssetPrice(asset)`
        price = prices_8dec.get(leg.asset)
    if price is None:
        raise InconsistentDataError(f"no oracle price for {leg.price_asset}; read it at the block")
    return price


def totals_for_legs(
    legs: tuple[AccountLeg, ...], prices_8dec: Mapping[Address, int], arithmetic: HealthArithmetic
) -> AccountTotals:
    """GenericLogic.calculateUserAccountData over resolved legs at the given prices."""
    collateral_8dec = 0
    weighted_collateral = 0  # Σ value_i * LT_i: 8 + 4 decimals
    debt_8dec = 0
    ceil_debt = arithmetic is HealthArithmetic.V3_5
    for leg in legs:
        if leg.collateral_raw == 0 and leg.debt_raw == 0:
            continue
        price_8dec = leg_price_8dec(leg, prices_8dec)
        if leg.collateral_raw:
            value_8dec = leg.collateral_raw * price_8dec // leg.unit
            collateral_8dec += value_8dec
            weighted_collateral += value_8dec * leg.lt_bps
        if leg.debt_raw:
            if ceil_debt:
                debt_8dec += mul_div_ceil(leg.debt_raw, price_8dec, leg.unit)
            else:
                debt_8dec += leg.debt_raw * price_8dec // leg.unit
    avg_lt_bps = weighted_collateral // collateral_8dec if collateral_8dec else 0
    if debt_8dec == 0:
        health_factor_wad = MAX_UINT256
    elif ceil_debt:
        health_factor_wad = wad_div(weighted_collateral, debt_8dec) // PERCENTAGE_FACTOR
    else:
        health_factor_wad = wad_div(percent_mul(collateral_8dec, avg_lt_bps), debt_8dec)
    return AccountTotals(collateral_8dec, debt_8dec, avg_lt_bps, health_factor_wad,
                         weighted_collateral)


def account_totals(
    account: AaveAccount,
    market: AaveMarketState,
    prices_8dec: Mapping[Address, int] | None = None,
) -> AccountTotals:
    """Mirror of Pool.getUserAccountData for `account` on `market`.

    `prices_8dec` overrides oracle prices per asset (an eMode price source is an asset here
    too); assets it does not name keep their price at the scan block.
    """
    arithmetic = arithmetic_for_revision(market.pool_revision)
    prices = oracle_prices_8dec(market)
    if prices_8dec:
        prices.update(prices_8dec)
    return totals_for_legs(account_legs(account, market, arithmetic), prices, arithmetic)
