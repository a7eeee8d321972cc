"""Integer mirror of Aave v3 `GenericLogic.calculateUserAccountData`.

Everything here is pure integer math on already-read state (no RPC, no I/O). The goal is
bit-exactness: `account_totals` must equal `Pool.getUserAccountData` at the same block for
(totalCollateralBase, totalDebtBase, currentLiquidationThreshold, healthFactor).

Four arithmetics exist (see `arithmetic_for_revision` for the revision numbers):

* V3_0 (v3.0.x, v3.1): eMode membership is the reserve's own `emode_category`; a category
  price source (if set) prices every asset of the category, collateral and debt.
  value_i = balance_i * price_i // unit_i (floor);  avgLT = Σ value_i*LT_i // Σ value_i;
  HF = wadDiv(percentMul(Σ value_i, avgLT), Σ debt_j)        (half-up, half-up)
* V3_2 (v3.2 - v3.4): as V3_0 but the eMode LT applies when bit `reserve_id` is set in the
  category's collateral bitmap, and every asset is priced by its own oracle price.
* V3_5 (v3.5+): collateral value floored, debt value ceiled (`MathUtils.mulDivCeil`);
  HF = wadDiv(Σ value_i*LT_i, Σ debt_j) // 1e4 -- no truncated average LT.
* V3_6 (v3.6, v3.7): as V3_5, but a collateral whose reserve LT is 0 still counts: inside
  an eMode whose collateral bitmap lists it, it gets the eMode LT (an asset can be collateral
  only inside an eMode); elsewhere it adds its value to the collateral with a weight of 0.
  v3.0-v3.5 skip such a collateral entirely (`liquidationThreshold != 0 && ...`).

Balances are taken as given (`AaveUserReserve.supplied_raw` / `debt_raw`); the adapter is
responsible for accruing them the way the pool does at that revision.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from scanner.domain import WAD, Address, Record
from scanner.errors import ConfigError, InconsistentDataError
from scanner.protocols.aave_v3.state import AaveAccount, AaveMarketState, AaveReserve

log = logging.getLogger(__name__)

MAX_UINT256: Final = 2**256 - 1
PERCENTAGE_FACTOR: Final = 10_000
HALF_PERCENTAGE_FACTOR: Final = 5_000


class HealthArithmetic(StrEnum):
    V3_0 = "v3.0"  # v3.0.x and v3.1: category eMode + eMode oracle, truncated avgLT
    V3_2 = "v3.2"  # v3.2 - v3.4: bitmap eMode, truncated avgLT
    V3_5 = "v3.5"  # v3.5: bitmap eMode, floor collateral / ceil debt, exact Σ(C·LT)
    V3_6 = "v3.6"  # v3.6 - v3.7: as v3.5, and reserve-LT-0 collateral counts (eMode-only)


# The arithmetics that ceil debt values (v3.5+: `MathUtils.mulDivCeil`; earlier ones round half up)
CEILS_DEBT = (HealthArithmetic.V3_5, HealthArithmetic.V3_6)


# Every POOL_REVISION whose GenericLogic was read; newer revisions must be reviewed first.

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
    10: HealthArithmetic.V3_6,
    11: HealthArithmetic.V3_6,
}
NEWEST_REVIEWED_REVISION = max(_KNOWN_REVISIONS)


class UnreviewedRevisionError(ConfigError):
    """A pool newer than any revision whose health-factor rule liqscan has been checked on."""


def arithmetic_for_revision(revision: int, allow_unreviewed: bool = False) -> HealthArithmetic:
    """Health-factor arithmetic used by a Pool with this `POOL_REVISION()`.

    Where each number was read (aave-v3-origin tags, `PoolInstance.POOL_REVISION`, and each
    tag's `GenericLogic.calculateUserAccountData`):
      1  v3.0.x: `POOL_REVISION = 0x1` in npm @aave/core-v3 1.19.3 (the devnet's v3.0 pool;
         judged by real bytecode in the tests).
      2  v3.0.x: seen in forks of aave-v3-core sources; which official release shipped it is
         UNVERIFIED (every v3.0.x GenericLogic has the same arithmetic).
      3  v3.0.2: `PoolInstance` built on `aave-v3-factory/core`.
      4  v3.1:   tag v3.1.0 `src/core/instances/PoolInstance.sol` (eMode price source kept).
      5  v3.2.0, 6 v3.2.1: the eMode collateral bitmap; every asset priced by its own oracle.
      7  v3.3.0, 8 v3.4.0: debt of a reserve without virtual accounting read by balanceOf --
         the same integer; the truncated average LT stays.
      9  v3.5.0: collateral floored (rayMulFloor), debt ceiled (rayMulCeil + mulDivCeil),
         HF = Σ(C·LT).wadDiv(debt) / 1e4.
      10 v3.6.0: the `liquidationThreshold != 0` gate on collateral is gone (see V3_6); judged
         by real bytecode (npm @aave-dao/aave-v3-origin 3.6.0) in the tests.
      11 v3.7 (aave-v3-origin main): GenericLogic unchanged from 3.6 but for a comment.

    A revision newer than the newest reviewed one is refused (UnreviewedRevisionError, exit 78)
    unless `allow_unreviewed` -- the market's `allow_unreviewed_revision = true` -- in which
    case it gets the newest arithmetic with a warning; the scan still compares the mirror with
    the pool's own getUserAccountData for every account, so a changed rule stops the scan.
    Revision 0 or below is not an Aave pool: ConfigError.
    """
    arithmetic = _KNOWN_REVISIONS.get(revision)
    if arithmetic is not None:
        return arithmetic
    newest = NEWEST_REVIEWED_REVISION
    if revision > newest and allow_unreviewed:
        log.warning("pool revision %d is newer than %d, the newest reviewed: using its "
                    "arithmetic as allowed by allow_unreviewed_revision", revision, newest)
        return _KNOWN_REVISIONS[newest]
    if revision > newest:
        raise UnreviewedRevisionError(
            f"pool revision {revision} is newer than {newest}, the newest whose health-factor "
            "rule liqscan has been checked against: upgrade liqscan, or set "
            "allow_unreviewed_revision = true on the market to use the v3.6 rule (every "
            "account is still checked against the pool's own getUserAccountData)"
        )
    raise ConfigError(
        f"pool revision {revision} is not an Aave v3 pool revision: check the market's "
        "pool_addresses_provider"
    )


# Built per account checked against the pool (read.mirror_mismatches) and per liquidation call
# priced: `init=False`, a written-out __init__ and not frozen, as scanner.domain.Valuation
# (compiled, a dataclass-generated __init__ still runs as Python). Treat as immutable; equal and
# hashed by value as when frozen.
@dataclass(init=False, unsafe_hash=True)
class AccountTotals(Record):
    """What `getUserAccountData` reports (minus ltv / available borrows)."""

    collateral_8dec: int
    debt_8dec: int
    avg_lt_bps: int
    health_factor_wad: int
    weighted_collateral: int = 0  # Σ value_i * LT_i (8 + 4 decimals), before any flooring

    def __init__(self, collateral_8dec: int, debt_8dec: int, avg_lt_bps: int,
                 health_factor_wad: int, weighted_collateral: int = 0) -> None:
        self.collateral_8dec = collateral_8dec
        self.debt_8dec = debt_8dec
        self.avg_lt_bps = avg_lt_bps
        self.health_factor_wad = health_factor_wad
        self.weighted_collateral = weighted_collateral


@dataclass(init=False, unsafe_hash=True)  # built per reserve of an account: see AccountTotals
class AccountLeg(Record):
    """One user reserve, with everything price-independent already resolved."""

    asset: Address
    price_asset: Address  # whose price values this leg (the eMode price source on v3.0/3.1)
    unit: int  # 10**decimals
    collateral_raw: int  # 0 when the leg does not count as collateral
    debt_raw: int
    lt_bps: int  # effective LT (eMode LT when the leg is in the user's category)
    bonus_bps: int  # effective liquidation bonus, same rule as lt_bps
    protocol_fee_bps: int = 0  # the reserve's liquidation protocol fee

    def __init__(self, asset: Address, price_asset: Address, unit: int, collateral_raw: int,
                 debt_raw: int, lt_bps: int, bonus_bps: int, protocol_fee_bps: int = 0) -> None:
        self.asset = asset
        self.price_asset = price_asset
        self.unit = unit
        self.collateral_raw = collateral_raw
        self.debt_raw = debt_raw
        self.lt_bps = lt_bps
        self.bonus_bps = bonus_bps
        self.protocol_fee_bps = protocol_fee_bps


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


def _counts_as_collateral(reserve: AaveReserve, arithmetic: HealthArithmetic) -> bool:
    """Up to v3.5 the reserve's own LT gates collateral, even inside eMode; v3.6 drops the
    gate, so an asset with reserve LT 0 is collateral through its eMode LT (or weighs 0)."""
    return arithmetic is HealthArithmetic.V3_6 or reserve.lt_bps != 0


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
        counts = user_reserve.used_as_collateral and _counts_as_collateral(reserve, arithmetic)
        leg = AccountLeg(
            asset=reserve.asset,
            price_asset=_price_asset(account, market, reserve, arithmetic),
            unit=10**reserve.decimals,
            collateral_raw=user_reserve.supplied_raw if counts else 0,
            debt_raw=user_reserve.debt_raw,
            lt_bps=lt_bps,
            bonus_bps=bonus_bps,
            protocol_fee_bps=reserve.protocol_fee_bps,
        )
        legs.append(leg)
    # Sums are order-independent, but a stable order keeps downstream output deterministic.
    return tuple(sorted(legs, key=lambda leg: market.reserves[leg.asset].reserve_id))


# --- the account data -------------------------------------------------------------------


def emode_price_source(account: AaveAccount, market: AaveMarketState,
                       arithmetic: HealthArithmetic) -> Address | None:
    """The user's eMode price source (v3.0/3.1 only; None without one)."""
    if arithmetic is not HealthArithmetic.V3_0 or account.emode_category == 0:
        return None
    return market.emodes[account.emode_category].price_source


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
    ceil_debt = arithmetic in CEILS_DEBT
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
    arithmetic = arithmetic_for_revision(market.pool_revision, market.allow_unreviewed_revision)
    prices = oracle_prices_8dec(market)
    if prices_8dec:
        prices.update(prices_8dec)
    return totals_for_legs(account_legs(account, market, arithmetic), prices, arithmetic)
