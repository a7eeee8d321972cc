"""A Uniswap v3 pool as read at a block, and an exact-input swap walked tick by tick.

`swap_exact_input` repeats what UniswapV3Pool.swap does for an exact input with no price
limit (the router's default limit, MIN/MAX_SQRT + 1): find the next initialized tick *within
one bitmap word* (a step also ends at a word boundary, which changes rounding), step toward it
with the pool's fee, cross it (apply liquidityNet, negated going down), repeat. The result is
the pool's own amountOut and sqrtPriceX96, to the unit.

The pool is read only within a window of bitmap words around its tick; a swap that would leave
the window raises instead of pricing liquidity it has not seen.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from scanner.cascade.v3math import (
    MAX_SQRT_X96,
    MAX_TICK,
    MIN_SQRT_X96,
    MIN_TICK,
    Q96,
    sqrt_x96_at_tick,
    swap_step,
    tick_at_sqrt_x96,
)
from scanner.domain import Address
from scanner.errors import InconsistentDataError

WORD_BITS = 256


class OutsideReadWindowError(InconsistentDataError):
    """A swap or price move reaches ticks beyond the bitmap words that were read."""


@dataclass(frozen=True)
class PoolState:
    """One pool at one block. `net_by_tick`: liquidityNet of every initialized tick in the
    words [first_word, last_word] of the tick bitmap (compressed tick >> 8)."""

    address: Address
    token0: Address
    token1: Address
    decimals0: int
    decimals1: int
    fee_pips: int
    tick_spacing: int
    sqrt_x96: int
    tick: int
    liquidity: int
    net_by_tick: Mapping[int, int]
    first_word: int
    last_word: int
    block: int
    _sorted_ticks: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_sorted_ticks", tuple(sorted(self.net_by_tick)))

    def next_initialized(self, tick: int, zero_for_one: bool) -> tuple[int, bool]:
        """The pool's nextInitializedTickWithinOneWord: (next tick, whether it is initialized)."""
        spacing = self.tick_spacing
        compressed = tick // spacing  # floor, as the pool rounds toward negative infinity
        if zero_for_one:
            word_start = (compressed >> 8) << 8
            self._check_word(compressed >> 8)
            index = bisect.bisect_right(self._sorted_ticks, compressed * spacing) - 1
            if index >= 0 and self._sorted_ticks[index] >= word_start * spacing:
                return self._sorted_ticks[index], True
            return word_start * spacing, False
        start = compressed + 1
        word_end = ((start >> 8) << 8) + WORD_BITS - 1
        self._check_word(start >> 8)
        index = bisect.bisect_left(self._sorted_ticks, start * spacing)
        if index < len(self._sorted_ticks) and self._sorted_ticks[index] <= word_end * spacing:
            return self._sorted_ticks[index], True
        return word_end * spacing, False

    def _check_word(self, word: int) -> None:
        if not self.first_word <= word <= self.last_word:
            raise OutsideReadWindowError(
                f"pool {self.address}: the walk reached bitmap word {word}, outside the words "
                f"read [{self.first_word}, {self.last_word}]: widen the read window")


@dataclass(frozen=True)
class SwapResult:
    amount_in_raw: int  # input taken, fee included
    amount_out_raw: int
    sqrt_after_x96: int
    tick_after: int
    liquidity_after: int


def swap_exact_input(pool: PoolState, zero_for_one: bool, amount_in_raw: int) -> SwapResult:
    """Sell `amount_in_raw` of token0 (zero_for_one) or token1 into the pool, as the pool does."""
    if amount_in_raw <= 0:
        raise ValueError(f"amount in must be > 0, got {amount_in_raw}")
    limit_x96 = MIN_SQRT_X96 + 1 if zero_for_one else MAX_SQRT_X96 - 1
    sqrt_x96, tick, liquidity = pool.sqrt_x96, pool.tick, pool.liquidity
    remaining, out_total = amount_in_raw, 0
    while remaining and sqrt_x96 != limit_x96:
        next_tick, initialized = pool.next_initialized(tick, zero_for_one)
        next_tick = max(MIN_TICK, min(MAX_TICK, next_tick))
        next_x96 = sqrt_x96_at_tick(next_tick)
        past_limit = next_x96 < limit_x96 if zero_for_one else next_x96 > limit_x96
        step_start_x96 = sqrt_x96
        sqrt_x96, used_in, out, fee = swap_step(
            sqrt_x96, limit_x96 if past_limit else next_x96, liquidity, remaining, pool.fee_pips)
        remaining -= used_in + fee
        out_total += out
        if sqrt_x96 == next_x96:
            if initialized:
                net = pool.net_by_tick[next_tick]
                liquidity += -net if zero_for_one else net
            tick = next_tick - 1 if zero_for_one else next_tick
        elif sqrt_x96 != step_start_x96:
            tick = tick_at_sqrt_x96(sqrt_x96)
    return SwapResult(amount_in_raw - remaining, out_total, sqrt_x96, tick, liquidity)


def moved_to(pool: PoolState, sqrt_x96: int) -> PoolState:
    """The pool as arbitrage leaves it at another price: same positions, the liquidity
    active there (liquidityNet of every tick crossed on the way), no fee accounted."""
    tick = tick_at_sqrt_x96(sqrt_x96)
    spacing = pool.tick_spacing
    for word in {(tick // spacing) >> 8, (pool.tick // spacing) >> 8}:
        pool._check_word(word)
    liquidity = pool.liquidity
    if tick > pool.tick:
        liquidity += sum(net for t, net in pool.net_by_tick.items() if pool.tick < t <= tick)
    else:
        liquidity -= sum(net for t, net in pool.net_by_tick.items() if tick < t <= pool.tick)
    return replace(pool, sqrt_x96=sqrt_x96, tick=tick, liquidity=liquidity)


def human_price(pool: PoolState, token_in: Address, sqrt_x96: int) -> float:
    """Units of the other token one whole `token_in` buys at `sqrt_x96`."""
    raw = (sqrt_x96 / Q96) ** 2  # token1 base units per token0 base unit
    if token_in == pool.token0:
        return raw * 10.0 ** (pool.decimals0 - pool.decimals1)
    return 10.0 ** (pool.decimals1 - pool.decimals0) / raw


def sqrt_x96_for(pool: PoolState, token_in: Address, price: float) -> int:
    """The sqrt price at which one whole `token_in` buys `price` of the other token."""
    if token_in == pool.token0:
        raw = price * 10.0 ** (pool.decimals1 - pool.decimals0)
    else:
        raw = 10.0 ** (pool.decimals1 - pool.decimals0) / price
    return max(MIN_SQRT_X96 + 1, min(MAX_SQRT_X96 - 1, int(math.sqrt(raw) * Q96)))
