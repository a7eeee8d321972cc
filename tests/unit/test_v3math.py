"""Uniswap v3 integer math: the published bounds, rounding directions, the tick inverse."""

from __future__ import annotations

import pytest

from scanner.cascade.v3math import (
    MAX_SQRT_X96,
    MAX_TICK,
    MIN_SQRT_X96,
    MIN_TICK,
    Q96,
    amount0_delta,
    amount1_delta,
    sqrt_x96_at_tick,
    swap_step,
    tick_at_sqrt_x96,
)


def test_bounds_are_the_pools_published_constants() -> None:
    # TickMath documents MIN/MAX_SQRT_RATIO as getSqrtRatioAtTick(MIN/MAX_TICK): the derived
    # per-bit factors must reproduce both ends exactly
    assert sqrt_x96_at_tick(MIN_TICK) == MIN_SQRT_X96
    assert sqrt_x96_at_tick(MAX_TICK) == MAX_SQRT_X96
    assert sqrt_x96_at_tick(0) == Q96


@pytest.mark.parametrize("tick", [-887271, -200000, -1, 1, 1655, 196256, 887271])
def test_tick_at_sqrt_inverts(tick: int) -> None:
    sqrt_x96 = sqrt_x96_at_tick(tick)
    assert tick_at_sqrt_x96(sqrt_x96) == tick
    assert tick_at_sqrt_x96(sqrt_x96 - 1) == tick - 1


def test_rounding_favours_the_pool() -> None:
    low, high, liquidity = sqrt_x96_at_tick(-10), sqrt_x96_at_tick(10), 10**18 + 7
    assert amount0_delta(low, high, liquidity, True) == amount0_delta(low, high, liquidity,
                                                                       False) + 1
    assert amount1_delta(low, high, liquidity, True) == amount1_delta(low, high, liquidity,
                                                                       False) + 1


def test_step_that_uses_up_the_input_keeps_the_rest_as_fee() -> None:
    start, target = Q96, sqrt_x96_at_tick(-1000)
    next_x96, used_in, out, fee = swap_step(start, target, 10**18, 10**15, 3000)
    assert target < next_x96 < start
    assert used_in + fee == 10**15 and fee >= 10**15 * 3000 // 10**6
    assert 0 < out < used_in  # price below 1 after selling token0
