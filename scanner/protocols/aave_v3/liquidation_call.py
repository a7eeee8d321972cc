"""Integer mirror of one Aave v3 `liquidationCall`: what a liquidator repays and seizes.

Pure math on resolved legs (see `generic_logic.account_legs`) at given prices. The rule follows
`LiquidationLogic.executeLiquidationCall` and `_calculateAvailableCollateralToLiquidate` of
each revision (read in npm @aave/core-v3 1.19.3 and aave-v3-origin tags v3.2.0-v3.6.0, HEAD):

* close factor -- v3.0-v3.2 (revisions 1-6): 50% of the borrower's debt in the debt reserve,
  100% below HF 0.95. v3.3+ (7+): the whole reserve debt, unless both the reserve's collateral
  and the reserve's debt are worth >= $2,000 and HF > 0.95; then at most 50% of the TOTAL debt
  (in base currency, converted back to the debt asset, floored).
* dust -- v3.3+: a call that repays part of the debt and leaves part of the collateral must
  leave at least $1,000 of each, or it reverts (`MustNotLeaveDust`): no outcome.
* rounding -- v3.5+ value the reserve debt with mulDivCeil and round the debt needed for a
  capped collateral up (percentDivCeil); v3.7 (revision 11) also floors the bonus collateral
  and the bonus share, and rounds the protocol fee up.
* prices -- v3.0/v3.1 use the eMode price source for the collateral when it is in the user's
  category, and for the debt whenever the user's category has a source.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Protocol

from scanner.domain import HEALTH_FACTOR_ONE_WAD, Address
from scanner.protocols.aave_v3.generic_logic import (
    PERCENTAGE_FACTOR,
    AccountLeg,
    mul_div_ceil,
    percent_mul,
)


class CallLeg(Protocol):
    """What the call reads of a leg (an AccountLeg, or the row view of rule.py's fast path)."""

    @property
    def asset(self) -> Address: ...
    @property
    def unit(self) -> int: ...
    @property
    def collateral_raw(self) -> int: ...
    @property
    def debt_raw(self) -> int: ...
    @property
    def bonus_bps(self) -> int: ...


class CallTotals(Protocol):
    """What the call reads of the account data (an AccountTotals, or a plain view)."""

    @property
    def debt_8dec(self) -> int: ...
    @property
    def health_factor_wad(self) -> int: ...


FULL_CLOSE_HF_WAD: Final = 95 * HEALTH_FACTOR_ONE_WAD // 100  # CLOSE_FACTOR_HF_THRESHOLD
MIN_BASE_MAX_CLOSE_FACTOR_8DEC: Final = 2000 * 10**8  # MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD
MIN_LEFTOVER_8DEC: Final = MIN_BASE_MAX_CLOSE_FACTOR_8DEC // 2  # MIN_LEFTOVER_BASE
DEFAULT_CLOSE_FACTOR_BPS: Final = 5_000


@dataclass(frozen=True)
class LiquidationRule:
    """What changes between revisions; `for_revision` maps POOL_REVISION to one."""

    small_position_full_close: bool  # v3.3+: $2,000 thresholds, total-debt close factor, dust
    ceil_debt: bool  # v3.5+: mulDivCeil debt value, percentDivCeil debt needed
    directed_bonus_rounding: bool  # v3.7: percentMulFloor / percentDivFloor / fee percentMulCeil

    @classmethod
    def for_revision(cls, revision: int) -> LiquidationRule:
        return cls(
            small_position_full_close=revision >= 7,
            ceil_debt=revision >= 9,
            directed_bonus_rounding=revision >= 11,
        )


# Built per position (seizable_usd_8dec): `init=False`, a written-out __init__ and not frozen,
# as scanner.domain.Valuation (compiled, a dataclass-generated __init__ runs as Python).
@dataclass(init=False, unsafe_hash=True)
class LiquidationCallOutcome:
    """A successful liquidationCall with debtToCover = max, in token base units."""

    collateral_asset: Address
    debt_asset: Address
    debt_repaid_raw: int
    collateral_to_liquidator_raw: int  # `liquidatedCollateralAmount` of the LiquidationCall event
    protocol_fee_raw: int  # aTokens moved to the treasury

    def __init__(self, collateral_asset: Address, debt_asset: Address, debt_repaid_raw: int,
                 collateral_to_liquidator_raw: int, protocol_fee_raw: int) -> None:
        self.collateral_asset = collateral_asset
        self.debt_asset = debt_asset
        self.debt_repaid_raw = debt_repaid_raw
        self.collateral_to_liquidator_raw = collateral_to_liquidator_raw
        self.protocol_fee_raw = protocol_fee_raw

    @property
    def collateral_seized_raw(self) -> int:
        """Everything that leaves the borrower's collateral balance."""
        return self.collateral_to_liquidator_raw + self.protocol_fee_raw


def percent_div(value: int, percentage_bps: int) -> int:
    """PercentageMath.percentDiv: half-up."""
    return (value * PERCENTAGE_FACTOR + percentage_bps // 2) // percentage_bps


def percent_div_ceil(value: int, percentage_bps: int) -> int:
    return -((-value * PERCENTAGE_FACTOR) // percentage_bps)


def percent_mul_ceil(value: int, percentage_bps: int) -> int:
    return -((-value * percentage_bps) // PERCENTAGE_FACTOR)


@dataclass(init=False, unsafe_hash=True)  # built per position: see LiquidationCallOutcome
class CallPrices:
    """The two prices the pool reads for one call (base currency per whole token)."""

    collateral_8dec: int
    debt_8dec: int

    def __init__(self, collateral_8dec: int, debt_8dec: int) -> None:
        self.collateral_8dec = collateral_8dec
        self.debt_8dec = debt_8dec


def liquidation_call(
    collateral: CallLeg, debt: CallLeg, prices: CallPrices, totals: CallTotals,
    rule: LiquidationRule, protocol_fee_bps: int,
) -> LiquidationCallOutcome | None:
    """liquidationCall(collateral, debt, user, type(uint256).max); None when it would revert
    for dust. `totals` is the account data at the same prices (HF, total debt)."""
    debt_to_cover = _max_liquidatable_debt(collateral, debt, prices, totals, rule)
    seized, debt_needed, fee = _available_collateral(
        collateral, debt, prices, debt_to_cover, rule, protocol_fee_bps)
    if rule.small_position_full_close and _leaves_dust(collateral, debt, prices, rule,
                                                        debt_needed, seized + fee):
        return None
    return LiquidationCallOutcome(collateral.asset, debt.asset, debt_needed, seized, fee)


def _reserve_debt_8dec(debt: CallLeg, price_8dec: int, rule: LiquidationRule) -> int:
    if rule.ceil_debt:
        return mul_div_ceil(debt.debt_raw, price_8dec, debt.unit)
    return debt.debt_raw * price_8dec // debt.unit


def _max_liquidatable_debt(
    collateral: CallLeg, debt: CallLeg, prices: CallPrices, totals: CallTotals,
    rule: LiquidationRule,
) -> int:
    hf_wad = totals.health_factor_wad
    if not rule.small_position_full_close:
        close_bps = DEFAULT_CLOSE_FACTOR_BPS if hf_wad > FULL_CLOSE_HF_WAD else PERCENTAGE_FACTOR
        return percent_mul(debt.debt_raw, close_bps)
    collateral_8dec = collateral.collateral_raw * prices.collateral_8dec // collateral.unit
    debt_8dec = _reserve_debt_8dec(debt, prices.debt_8dec, rule)
    if (collateral_8dec >= MIN_BASE_MAX_CLOSE_FACTOR_8DEC
            and debt_8dec >= MIN_BASE_MAX_CLOSE_FACTOR_8DEC and hf_wad > FULL_CLOSE_HF_WAD):
        half_total_8dec = percent_mul(totals.debt_8dec, DEFAULT_CLOSE_FACTOR_BPS)
        if debt_8dec > half_total_8dec:
            return half_total_8dec * debt.unit // prices.debt_8dec
    return debt.debt_raw


def _available_collateral(
    collateral: CallLeg, debt: CallLeg, prices: CallPrices, debt_to_cover: int,
    rule: LiquidationRule, protocol_fee_bps: int,
) -> tuple[int, int, int]:
    """(collateral to the liquidator, debt needed, protocol fee), as the pool computes them."""
    bonus = collateral.bonus_bps
    base_collateral = (prices.debt_8dec * debt_to_cover * collateral.unit) // (
        prices.collateral_8dec * debt.unit)
    if rule.directed_bonus_rounding:
        max_collateral = base_collateral * bonus // PERCENTAGE_FACTOR
    else:
        max_collateral = percent_mul(base_collateral, bonus)
    if max_collateral > collateral.collateral_raw:
        amount = collateral.collateral_raw
        worth = (prices.collateral_8dec * amount * debt.unit) // (
            prices.debt_8dec * collateral.unit)
        divide = percent_div_ceil if rule.ceil_debt else percent_div
        debt_needed = divide(worth, bonus)
    else:
        amount, debt_needed = max_collateral, debt_to_cover
    fee = 0
    if protocol_fee_bps:
        if rule.directed_bonus_rounding:
            bonus_collateral = amount - amount * PERCENTAGE_FACTOR // bonus
            fee = percent_mul_ceil(bonus_collateral, protocol_fee_bps)
        else:
            bonus_collateral = amount - percent_div(amount, bonus)
            fee = percent_mul(bonus_collateral, protocol_fee_bps)
    return amount - fee, debt_needed, fee


def _leaves_dust(
    collateral: CallLeg, debt: CallLeg, prices: CallPrices, rule: LiquidationRule,
    debt_repaid_raw: int, collateral_taken_raw: int,
) -> bool:
    if debt_repaid_raw >= debt.debt_raw or collateral_taken_raw >= collateral.collateral_raw:
        return False
    debt_left = debt.debt_raw - debt_repaid_raw
    if rule.ceil_debt:
        debt_left_8dec = mul_div_ceil(debt_left, prices.debt_8dec, debt.unit)
    else:
        debt_left_8dec = debt_left * prices.debt_8dec // debt.unit
    collateral_left_8dec = (collateral.collateral_raw - collateral_taken_raw) * (
        prices.collateral_8dec) // collateral.unit
    return debt_left_8dec < MIN_LEFTOVER_8DEC or collateral_left_8dec < MIN_LEFTOVER_8DEC


def call_prices(
    collateral: AccountLeg, debt: AccountLeg, prices_8dec: Mapping[Address, int],
    emode_price_source: Address | None,
) -> CallPrices:
    """Prices the pool reads: each leg's own price source; on v3.0/3.1 the debt is priced by
    the user's eMode price source whenever the category has one (`_getConfigurationData`)."""
    debt_source = emode_price_source or debt.price_asset
    return CallPrices(prices_8dec[collateral.price_asset], prices_8dec[debt_source])

