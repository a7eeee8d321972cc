"""Uniswap v3 swap arithmetic in exact integers, rounding where the pool rounds.

Written from the behaviour of v3-core's TickMath, SqrtPriceMath and SwapMath (1.0.x):
- sqrt prices are Q64.96 (`_x96`), liquidity is the pool's uint128 L;
- amounts owed *to* the pool round up, amounts paid *by* it round down;
- an exact-input step first takes the fee off the input, floored: in * (1e6 - fee) / 1e6.
Python ints have no overflow, so the only place the 256-bit width matters is the one branch
of `next_sqrt_from_amount0` the pool takes when `amount * sqrt` would overflow.
"""

from __future__ import annotations

from decimal import Decimal, localcontext
from functools import cache

Q96 = 1 << 96
MIN_TICK = -887272
MAX_TICK = 887272
MIN_SQRT_X96 = 4295128739
MAX_SQRT_X96 = 1461446703485210103287273052203988822378723970342
FEE_UNIT_PIPS = 1_000_000
UINT256_LIMIT = 1 << 256


def _div_up(a: int, b: int) -> int:
    return -(-a // b)


def _mul_div_up(a: int, b: int, d: int) -> int:
    return _div_up(a * b, d)


@cache
def _tick_factors_x128() -> tuple[int, ...]:
    """1/sqrt(1.0001)^(2^i) in Q128, rounded to nearest: the pool's 20 per-bit factors
    (bit 0's factor is the only one tested against 2^128 when the bit is clear)."""
    with localcontext() as ctx:
        ctx.prec = 120
        root = Decimal("1.0001").sqrt()
        return tuple(int((Decimal(1 << 128) / root ** (1 << i)).to_integral_value())
                     for i in range(20))


def sqrt_x96_at_tick(tick: int) -> int:
    """sqrt(1.0001^tick) in Q64.96, as TickMath: a Q128 product over the bits of |tick|,
    inverted for positive ticks (uint256 max / ratio), then to Q96 rounding up."""
    abs_tick = abs(tick)
    if abs_tick > MAX_TICK:
        raise ValueError(f"tick {tick} outside [{MIN_TICK}, {MAX_TICK}]")
    factors = _tick_factors_x128()
    ratio = factors[0] if abs_tick & 1 else 1 << 128
    for bit in range(1, 20):
        if abs_tick & (1 << bit):
            ratio = (ratio * factors[bit]) >> 128
    if tick > 0:
        ratio = (UINT256_LIMIT - 1) // ratio
    return (ratio >> 32) + (1 if ratio % (1 << 32) else 0)


def tick_at_sqrt_x96(sqrt_x96: int) -> int:
    """The greatest tick whose sqrt price is <= sqrt_x96 (TickMath's definition), by bisection."""
    if not MIN_SQRT_X96 <= sqrt_x96 < MAX_SQRT_X96:
        raise ValueError(f"sqrt price {sqrt_x96} outside the pool's range")
    low, high = MIN_TICK, MAX_TICK  # invariant: sqrt_at(low) <= sqrt_x96 < sqrt_at(high)
    while high - low > 1:
        middle = (low + high) // 2
        if sqrt_x96_at_tick(middle) <= sqrt_x96:
            low = middle
        else:
            high = middle
    return low


def amount0_delta(sqrt_a_x96: int, sqrt_b_x96: int, liquidity: int, round_up: bool) -> int:
    """token0 between two prices: L * 2^96 * (b - a) / b / a."""
    low, high = sorted((sqrt_a_x96, sqrt_b_x96))
    numerator = liquidity << 96
    if round_up:
        return _div_up(_mul_div_up(numerator, high - low, high), low)
    return numerator * (high - low) // high // low


def amount1_delta(sqrt_a_x96: int, sqrt_b_x96: int, liquidity: int, round_up: bool) -> int:
    """token1 between two prices: L * (b - a) / 2^96."""
    low, high = sorted((sqrt_a_x96, sqrt_b_x96))
    if round_up:
        return _mul_div_up(liquidity, high - low, Q96)
    return liquidity * (high - low) // Q96


def next_sqrt_from_amount0(sqrt_x96: int, liquidity: int, amount_in: int) -> int:
    """Price after adding token0 (price falls), rounded up: L*P / (L + amount*P)."""
    if amount_in == 0:
        return sqrt_x96
    numerator = liquidity << 96
    product = amount_in * sqrt_x96
    if product < UINT256_LIMIT and numerator + product < UINT256_LIMIT:
        return _mul_div_up(numerator, sqrt_x96, numerator + product)
    # the pool's fallback when the product would overflow 256 bits
    return _div_up(numerator, numerator // sqrt_x96 + amount_in)


def next_sqrt_from_amount1(sqrt_x96: int, liquidity: int, amount_in: int) -> int:
    """Price after adding token1 (price rises), rounded down: P + amount * 2^96 / L."""
    return sqrt_x96 + (amount_in << 96) // liquidity


def swap_step(sqrt_x96: int, target_x96: int, liquidity: int, remaining_in: int,
              fee_pips: int) -> tuple[int, int, int, int]:
    """One exact-input step toward `target_x96`: (sqrt after, amount in, amount out, fee)."""
    zero_for_one = sqrt_x96 >= target_x96
    less_fee = remaining_in * (FEE_UNIT_PIPS - fee_pips) // FEE_UNIT_PIPS
    if zero_for_one:
        amount_in = amount0_delta(target_x96, sqrt_x96, liquidity, True)
    else:
        amount_in = amount1_delta(sqrt_x96, target_x96, liquidity, True)
    if less_fee >= amount_in:
        next_x96 = target_x96
    elif zero_for_one:
        next_x96 = next_sqrt_from_amount0(sqrt_x96, liquidity, less_fee)
    else:
        next_x96 = next_sqrt_from_amount1(sqrt_x96, liquidity, less_fee)
    reached = next_x96 == target_x96
    if zero_for_one:
        if not reached:
            amount_in = amount0_delta(next_x96, sqrt_x96, liquidity, True)
        amount_out = amount1_delta(next_x96, sqrt_x96, liquidity, False)
    else:
        if not reached:
            amount_in = amount1_delta(sqrt_x96, next_x96, liquidity, True)
        amount_out = amount0_delta(sqrt_x96, next_x96, liquidity, False)
    if not reached:  # the step used up the input: whatever is left over is fee
        fee = remaining_in - amount_in
    else:
        fee = _mul_div_up(amount_in, fee_pips, FEE_UNIT_PIPS - fee_pips)
    return next_x96, amount_in, amount_out, fee
