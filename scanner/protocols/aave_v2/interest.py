"""Aave v2 interest accrued to a timestamp, as pure integer math (MathUtils, ReserveLogic).

The tokens' `balanceOf` at block time t is (npm @aave/protocol-v2 1.0.1):

    aToken         scaled.rayMul(normalizedIncome(t))
    variable debt  scaled.rayMul(normalizedDebt(t))                 (0 when scaled is 0)
    stable debt    principal.rayMul(compounded(userRate, userTimestamp, t))   (0 when 0)

    normalizedIncome(t) = liquidityIndex                 when t == lastUpdateTimestamp
                        = linear(liquidityRate, dt).rayMul(liquidityIndex)   otherwise
    normalizedDebt(t)   = variableBorrowIndex            when t == lastUpdateTimestamp
                        = compounded(variableBorrowRate, dt).rayMul(variableBorrowIndex)

    linear(rate, dt)     = rate * dt // SECONDS_PER_YEAR + RAY
    compounded(rate, dt) = RAY + r*dt + dt(dt-1) r2 // 2 + dt(dt-1)(dt-2) r3 // 6,
                           r = rate // SECONDS_PER_YEAR, r2 = r.rayMul(r), r3 = r2.rayMul(r)
                           (the binomial approximation to three terms; RAY when dt == 0)

rayMul rounds half up. The stored indices go stale between touches of a reserve (a month on
quiet reserves): a scanner that reads them without accruing undervalues every debt.
"""

from __future__ import annotations

from scanner.domain import RAY
from scanner.protocols.aave_v2.state import V2Reserve, V2StableDebt

SECONDS_PER_YEAR = 365 * 24 * 3600
HALF_RAY = RAY // 2


def ray_mul(a: int, b: int) -> int:
    """WadRayMath.rayMul: half up (0 when either is 0)."""
    if a == 0 or b == 0:
        return 0
    return (a * b + HALF_RAY) // RAY


def linear_interest_ray(rate_ray: int, last_update_timestamp: int, timestamp: int) -> int:
    """MathUtils.calculateLinearInterest."""
    elapsed_seconds = timestamp - last_update_timestamp
    return rate_ray * elapsed_seconds // SECONDS_PER_YEAR + RAY


def compounded_interest_ray(rate_ray: int, last_update_timestamp: int, timestamp: int) -> int:
    """MathUtils.calculateCompoundedInterest (three binomial terms, each floored)."""
    exp = timestamp - last_update_timestamp
    if exp == 0:
        return RAY
    exp_minus_one = exp - 1
    exp_minus_two = exp - 2 if exp > 2 else 0
    rate_per_second = rate_ray // SECONDS_PER_YEAR
    base_power_two = ray_mul(rate_per_second, rate_per_second)
    base_power_three = ray_mul(base_power_two, rate_per_second)
    second_term = exp * exp_minus_one * base_power_two // 2
    third_term = exp * exp_minus_one * exp_minus_two * base_power_three // 6
    return RAY + rate_per_second * exp + second_term + third_term


def normalized_income_ray(reserve: V2Reserve, timestamp: int) -> int:
    """ReserveLogic.getNormalizedIncome at block time `timestamp`."""
    if timestamp == reserve.last_update_timestamp:
        return reserve.liquidity_index_ray
    growth = linear_interest_ray(reserve.liquidity_rate_ray, reserve.last_update_timestamp,
                                 timestamp)
    return ray_mul(growth, reserve.liquidity_index_ray)


def normalized_debt_ray(reserve: V2Reserve, timestamp: int) -> int:
    """ReserveLogic.getNormalizedDebt at block time `timestamp`."""
    if timestamp == reserve.last_update_timestamp:
        return reserve.variable_borrow_index_ray
    growth = compounded_interest_ray(reserve.variable_borrow_rate_ray,
                                     reserve.last_update_timestamp, timestamp)
    return ray_mul(growth, reserve.variable_borrow_index_ray)


def supplied_raw(scaled_raw: int, reserve: V2Reserve, timestamp: int) -> int:
    """AToken.balanceOf."""
    return ray_mul(scaled_raw, normalized_income_ray(reserve, timestamp))


def variable_debt_raw(scaled_raw: int, reserve: V2Reserve, timestamp: int) -> int:
    """VariableDebtToken.balanceOf."""
    if scaled_raw == 0:
        return 0
    return ray_mul(scaled_raw, normalized_debt_ray(reserve, timestamp))


def stable_debt_raw(stable: V2StableDebt, timestamp: int) -> int:
    """StableDebtToken.balanceOf: the user's own rate, compounded since the user's own update."""
    if stable.principal_raw == 0:
        return 0
    growth = compounded_interest_ray(stable.rate_ray, stable.last_update_timestamp, timestamp)
    return ray_mul(stable.principal_raw, growth)
