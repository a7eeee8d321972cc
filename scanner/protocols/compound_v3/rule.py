"""Compound III (Comet) rules as pure integer functions, exactly as Comet.sol computes them.

No I/O and no imports from the pipeline: inputs are what `totalsBasic`, the rate getters,
`getAssetInfo`, `getPrice`, `userBasic` and `userCollateral` return at one block.

Scales: BASE_INDEX_SCALE 1e15 (indices), FACTOR_SCALE 1e18 (rates per second, utilization,
collateral factors), prices with 8 decimals in the Comet's own unit (USD for USDC Comets, ETH
for mainnet's WETH Comet). Rounding follows the contract:
- presentValue: |principal| * index / 1e15, floored, then signed (debt rounds toward 0);
- principalValue: supply floored, borrow rounded up;
- signedMulPrice: Solidity signed division, truncated toward 0 (not Python's floor);
- mulFactor / mulPrice / divPrice: unsigned, floored.
The contract's views (`isLiquidatable`) use the STORED indices; `absorb` accrues first. To get
what `absorb` sees at a block, accrue the totals to that block's timestamp (`accrue`) and pass
the accrued indices.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from scanner.errors import InconsistentDataError

FACTOR_SCALE = 10**18
BASE_INDEX_SCALE = 10**15
PRICE_SCALE = 10**8
MAX_UINT64 = 2**64 - 1
MAX_UINT104 = 2**104 - 1
MAX_INT104 = 2**103 - 1


class CometRevertError(InconsistentDataError):
    """The inputs make Comet itself revert (an overflow guard of CometMath, or a bad price)."""


@dataclass(frozen=True)
class CometRates:
    """The eight rate-model getters of a Comet (per second, 1e18 scale; kinks are utilizations)."""

    supply_kink_wad: int
    supply_slope_low_per_second_wad: int
    supply_slope_high_per_second_wad: int
    supply_base_per_second_wad: int
    borrow_kink_wad: int
    borrow_slope_low_per_second_wad: int
    borrow_slope_high_per_second_wad: int
    borrow_base_per_second_wad: int


@dataclass(frozen=True)
class CometTotals:
    """The accrual fields of `totalsBasic()`."""

    base_supply_index: int
    base_borrow_index: int
    total_supply_base: int  # principal
    total_borrow_base: int  # principal
    last_accrual_time: int  # unix seconds


@dataclass(frozen=True)
class CometAsset:
    """One `getAssetInfo(i)`: factors with 1e18 scale, `scale` = 10**decimals."""

    offset: int
    asset: str
    scale: int
    borrow_collateral_factor_wad: int
    liquidate_collateral_factor_wad: int
    liquidation_factor_wad: int


@dataclass(frozen=True)
class CometAccount:
    """`userBasic(account)` (principal, assetsIn) and `userCollateral(account, asset).balance`."""

    principal: int  # signed: > 0 supplies base, < 0 borrows it
    assets_in: int  # bit i set: holds asset at offset i (bits 16-23: userBasic._reserved)
    collateral_raw: Mapping[str, int]  # asset address -> balance (token base units)


@dataclass(frozen=True)
class CometPrices:
    """`getPrice` of the base feed and of each collateral's feed, 8 decimals."""

    base_8dec: int
    collateral_8dec: Mapping[str, int]  # asset address -> price


@dataclass(frozen=True)
class AbsorbOutcome:
    """What `absorb` does to one liquidatable account (amounts in base units unless named)."""

    seized_raw: Mapping[str, int]  # asset -> whole balance, all of it
    seized_value_8dec: Mapping[str, int]  # asset -> mulPrice(balance, price, scale)
    old_balance_raw: int  # presentValue(principal) (negative: debt)
    new_balance_raw: int  # >= 0: debt beyond the discounted collateral is absorbed by reserves
    new_principal: int
    base_paid_out_raw: int  # AbsorbDebt.basePaidOut
    base_paid_out_value_8dec: int  # AbsorbDebt.usdValue


# --- CometMath ------------------------------------------------------------------------------


def _check(value: int, limit: int, what: str) -> int:
    if not 0 <= value <= limit:
        raise CometRevertError(f"Comet reverts: {what} {value} out of range")
    return value


def mul_factor(n: int, factor_wad: int) -> int:
    return n * factor_wad // FACTOR_SCALE


def mul_price(n: int, price_8dec: int, from_scale: int) -> int:
    return n * price_8dec // from_scale


def signed_mul_price(n: int, price_8dec: int, from_scale: int) -> int:
    """n * price / scale with Solidity's int256 division: truncated toward zero."""
    product = n * price_8dec
    quotient = abs(product) // from_scale
    return quotient if product >= 0 else -quotient


def div_price(n: int, price_8dec: int, to_scale: int) -> int:
    return n * to_scale // price_8dec


# --- interest ---------------------------------------------------------------------------------


def utilization_wad(totals: CometTotals) -> int:
    """getUtilization: present borrows * 1e18 / present supply, at the stored indices."""
    supply = totals.total_supply_base * totals.base_supply_index // BASE_INDEX_SCALE
    borrow = totals.total_borrow_base * totals.base_borrow_index // BASE_INDEX_SCALE
    return 0 if supply == 0 else borrow * FACTOR_SCALE // supply


def _kinked_rate(utilization: int, kink: int, base: int, low: int, high: int) -> int:
    if utilization <= kink:
        rate = base + mul_factor(low, utilization)
    else:
        rate = base + mul_factor(low, kink) + mul_factor(high, utilization - kink)
    return _check(rate, MAX_UINT64, "per-second rate")


def supply_rate_per_second_wad(rates: CometRates, utilization: int) -> int:
    return _kinked_rate(utilization, rates.supply_kink_wad, rates.supply_base_per_second_wad,
                        rates.supply_slope_low_per_second_wad,
                        rates.supply_slope_high_per_second_wad)


def borrow_rate_per_second_wad(rates: CometRates, utilization: int) -> int:
    return _kinked_rate(utilization, rates.borrow_kink_wad, rates.borrow_base_per_second_wad,
                        rates.borrow_slope_low_per_second_wad,
                        rates.borrow_slope_high_per_second_wad)


def accrue(totals: CometTotals, rates: CometRates, timestamp: int) -> CometTotals:
    """accrueInternal at `timestamp`: ONE linear step over the whole elapsed time,
    index += index * rate * elapsed / 1e18, rates at the utilization of the stored indices."""
    elapsed = timestamp - totals.last_accrual_time
    if elapsed < 0:
        raise InconsistentDataError(
            f"Comet accrued at {totals.last_accrual_time}, after timestamp {timestamp}")
    if elapsed == 0:
        return totals
    utilization = utilization_wad(totals)
    supply_rate = supply_rate_per_second_wad(rates, utilization)
    borrow_rate = borrow_rate_per_second_wad(rates, utilization)
    supply_step = mul_factor(totals.base_supply_index, supply_rate * elapsed)
    borrow_step = mul_factor(totals.base_borrow_index, borrow_rate * elapsed)
    supply_index = totals.base_supply_index + _check(supply_step, MAX_UINT64, "supply index step")
    borrow_index = totals.base_borrow_index + _check(borrow_step, MAX_UINT64, "borrow index step")
    return replace(totals, base_supply_index=_check(supply_index, MAX_UINT64, "supply index"),
                   base_borrow_index=_check(borrow_index, MAX_UINT64, "borrow index"),
                   last_accrual_time=timestamp)


# --- principal and present value --------------------------------------------------------------


def present_value(principal: int, totals: CometTotals) -> int:
    """presentValue: supply and debt both floored in magnitude, debt negative."""
    if principal >= 0:
        return principal * totals.base_supply_index // BASE_INDEX_SCALE
    return -(-principal * totals.base_borrow_index // BASE_INDEX_SCALE)


def present_debt_raw(principal: int, totals: CometTotals) -> int:
    """borrowBalanceOf with these indices: the debt in base units (0 for a supplier)."""
    return -present_value(principal, totals) if principal < 0 else 0


def principal_value(present_raw: int, totals: CometTotals) -> int:
    """principalValue: supply floored, borrow rounded up (in magnitude); int104-checked."""
    if present_raw >= 0:
        magnitude = present_raw * BASE_INDEX_SCALE // totals.base_supply_index
    else:
        index = totals.base_borrow_index
        magnitude = (-present_raw * BASE_INDEX_SCALE + index - 1) // index
    _check(magnitude, MAX_UINT104, "principal")
    _check(magnitude, MAX_INT104, "signed principal")
    return magnitude if present_raw >= 0 else -magnitude


def _price(prices: CometPrices, asset: str) -> int:
    price_8dec = prices.collateral_8dec[asset]
    if price_8dec <= 0:
        raise CometRevertError(f"Comet reverts BadPrice: feed of {asset} answers {price_8dec}")
    return price_8dec


def _held(account: CometAccount, assets: Sequence[CometAsset]) -> list[CometAsset]:
    return [a for a in sorted(assets, key=lambda a: a.offset) if account.assets_in >> a.offset & 1]


def liquidity_8dec(account: CometAccount, assets: Sequence[CometAsset], prices: CometPrices,
                   base_scale: int, totals: CometTotals, for_liquidation: bool = True) -> int:
    """signedMulPrice(presentValue(principal), basePrice, baseScale)
    + sum over held assets of mulFactor(mulPrice(balance, price, scale), factor).

    The factor is liquidateCollateralFactor (isLiquidatable) or borrowCollateralFactor
    (isBorrowCollateralized). The contract stops adding once the running sum is >= 0; every
    term is >= 0, so the sign -- all the contract uses -- is the same. 0 for a non-borrower.
    """
    if account.principal >= 0:
        return 0
    if prices.base_8dec <= 0:
        raise CometRevertError(f"Comet reverts BadPrice: base feed answers {prices.base_8dec}")
    total = signed_mul_price(present_value(account.principal, totals), prices.base_8dec,
                             base_scale)
    for asset in _held(account, assets):
        value = mul_price(account.collateral_raw.get(asset.asset, 0), _price(prices, asset.asset),
                          asset.scale)
        factor = (asset.liquidate_collateral_factor_wad if for_liquidation
                  else asset.borrow_collateral_factor_wad)
        total += mul_factor(value, factor)
    return total


def is_liquidatable(account: CometAccount, assets: Sequence[CometAsset], prices: CometPrices,
                    base_scale: int, totals: CometTotals) -> bool:
    """isLiquidatable with `totals`' indices: pass the stored totals for the view, the totals
    accrued to the block's timestamp for what `absorb` decides."""
    return liquidity_8dec(account, assets, prices, base_scale, totals) < 0


def is_borrow_collateralized(account: CometAccount, assets: Sequence[CometAsset],
                             prices: CometPrices, base_scale: int, totals: CometTotals) -> bool:
    return liquidity_8dec(account, assets, prices, base_scale, totals, for_liquidation=False) >= 0


def absorb_outcome(account: CometAccount, assets: Sequence[CometAsset], prices: CometPrices,
                   base_scale: int, totals: CometTotals) -> AbsorbOutcome:
    """absorbInternal for one account with `totals` already accrued (absorb accrues once first).

    Seizes every held collateral in full; credits sum mulFactor(value, liquidationFactor),
    converted with divPrice at the base price; the new balance is floored at 0. Raises
    CometRevertError (NotLiquidatable) when `absorb` would revert for this account.
    """
    if not is_liquidatable(account, assets, prices, base_scale, totals):
        raise CometRevertError("Comet reverts NotLiquidatable: the account is not liquidatable")
    old_balance = present_value(account.principal, totals)
    seized: dict[str, int] = {}
    values: dict[str, int] = {}
    delta_value = 0
    for asset in _held(account, assets):
        seized[asset.asset] = account.collateral_raw.get(asset.asset, 0)
        values[asset.asset] = mul_price(seized[asset.asset], _price(prices, asset.asset),
                                        asset.scale)
        delta_value += mul_factor(values[asset.asset], asset.liquidation_factor_wad)
    new_balance = max(old_balance + div_price(delta_value, prices.base_8dec, base_scale), 0)
    paid_out = new_balance - old_balance
    return AbsorbOutcome(seized, values, old_balance, new_balance,
                         principal_value(new_balance, totals), paid_out,
                         mul_price(paid_out, prices.base_8dec, base_scale))
