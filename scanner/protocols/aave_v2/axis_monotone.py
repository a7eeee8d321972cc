"""When an Aave v2 account's health is PROVABLY monotone in the axis price, and its boundary.

Moving the axis moves some legs' ETH prices, all the same way: on the ETH axis every
non-member's price is `p * ref_now // x` (falls as x rises), on any other axis every member's
is `p * x // ref_now` (rises). Each leg's value `price * amount // unit` follows its price.

healthy(x) is `D == 0 or A * WAD + D // 2 >= WAD * D` with A = percentMul(C, avgLT): as D
grows by one the left side grows by at most one and the right by WAD, so healthy is
non-increasing in D and non-decreasing in A. A is non-decreasing in C * floor(W / C)
(W = Σ value * LT), which is non-decreasing as the moving collateral V grows when every
moving leg has the same LT `a` and a * C_fix >= W_fix: then (W_fix + aV) / (C_fix + V) cannot
fall, nor can its floor or C. So health is proven monotone (pipeline/monotone.py) when the
moving legs are all collateral of one LT at or above the fixed legs' exact average, or all
debt (the collateral fixed); otherwise (a leg both supplied and borrowed moves, moving LTs
differ, or the moving LT is below the fixed average: the floored average's dips) not proven.
"""

from __future__ import annotations

from dataclasses import dataclass

from scanner.domain import WAD
from scanner.protocols.aave_v2.generic_logic import HALF_PERCENT, PERCENTAGE_FACTOR, Leg

# Re-solving at the average LT of its own answer settles in one or two rounds; the seed is
# only an estimate (monotone.py confirms it), so a few rounds at most.
MAX_SEED_ROUNDS = 4


# Built per curve: a written-out __init__, not frozen (see domain.Valuation).
@dataclass(init=False, unsafe_hash=True)
class Split:
    """An account's legs split by the axis: the moving ones and the fixed sums."""

    moving: tuple[Leg, ...]
    direction: int  # +1: moving prices rise with x; -1: they fall
    fixed_collateral: int  # Σ value over fixed collateral legs (ETH wei)
    fixed_weighted: int  # Σ value * LT over them
    fixed_debt: int  # Σ value over fixed debt legs (ETH wei)

    def __init__(self, moving: tuple[Leg, ...], direction: int, fixed_collateral: int,
                 fixed_weighted: int, fixed_debt: int) -> None:
        self.moving = moving
        self.direction = direction
        self.fixed_collateral = fixed_collateral
        self.fixed_weighted = fixed_weighted
        self.fixed_debt = fixed_debt


def split(legs: tuple[Leg, ...], prices: dict[str, int], members: frozenset[str],
          eth_moves: bool) -> Split:
    moving, c_fix, w_fix, d_fix = [], 0, 0, 0
    for leg in legs:
        if leg.collateral_raw == 0 and leg.debt_raw == 0:
            continue
        if (leg.asset in members) != eth_moves:
            moving.append(leg)
            continue
        price = prices[leg.asset]
        value = price * leg.collateral_raw // leg.unit
        c_fix, w_fix = c_fix + value, w_fix + value * leg.lt_bps
        d_fix += price * leg.debt_raw // leg.unit
    return Split(tuple(moving), -1 if eth_moves else 1, c_fix, w_fix, d_fix)


def monotone_sign(s: Split) -> int | None:
    """+1 / -1 / 0 as pipeline/monotone.py defines them, None when not proven."""
    if not s.moving:
        return 0
    if all(leg.collateral_raw == 0 for leg in s.moving):
        return -s.direction  # only debt moves
    if any(leg.debt_raw for leg in s.moving) or len({leg.lt_bps for leg in s.moving}) > 1:
        return None
    lt_bps = s.moving[0].lt_bps
    return s.direction if lt_bps * s.fixed_collateral >= s.fixed_weighted else None


def _largest_healthy_debt(a_eth: int) -> int:
    """The largest D with A * WAD + D // 2 >= WAD * D (healthy is non-increasing in D)."""
    debt = 2 * a_eth * WAD // (2 * WAD - 1)
    while a_eth * WAD + (debt + 1) // 2 >= WAD * (debt + 1):
        debt += 1
    while debt > 0 and a_eth * WAD + debt // 2 < WAD * debt:
        debt -= 1
    return debt


def _smallest_moving_collateral(s: Split, lt_bps: int) -> int | None:
    """The smallest moving collateral value V with percentMul(C, avgLT) * WAD + D // 2 >=
    WAD * D: re-solved at the floored average LT of its own answer until it settles."""
    debt = s.fixed_debt
    a_min = -(-(WAD * debt - debt // 2) // WAD)
    target = PERCENTAGE_FACTOR * a_min - HALF_PERCENT  # C * avgLT must reach it
    average = lt_bps
    moving = 0
    for _ in range(MAX_SEED_ROUNDS):
        if average == 0:
            return None
        moving = max(0, -(-target // average) - s.fixed_collateral)
        total = s.fixed_collateral + moving
        settled = (s.fixed_weighted + lt_bps * moving) // total if total else 0
        if settled == average:
            break
        average = settled
    return moving


def boundary_seed(s: Split, sign: int, prices: dict[str, int], ref_now: int) -> int | None:
    """The boundary x when ONE leg moves, each floor inverted (a ceiling division where the
    smallest is sought); None for several moving legs (the closed form seeds those)."""
    if len(s.moving) != 1 or sign == 0:
        return None
    leg = s.moving[0]
    price_now = prices[leg.asset]
    if price_now == 0:
        return None
    if leg.collateral_raw:
        value = _smallest_moving_collateral(s, leg.lt_bps)
        if value is None:
            return None
        price = -(-value * leg.unit // leg.collateral_raw)  # smallest: value reached
        if s.direction > 0:  # smallest x with p * x // ref >= price
            return -(-price * ref_now // price_now)
        return price_now * ref_now // price if price else None  # largest x: p*ref//x >= price
    value = _largest_healthy_debt(_collateral_term(s)) - s.fixed_debt
    if value < 0:
        return None
    price = ((value + 1) * leg.unit - 1) // leg.debt_raw  # largest: value not exceeded
    if s.direction > 0:  # largest x with p * x // ref <= price
        return ((price + 1) * ref_now - 1) // price_now
    return price_now * ref_now // (price + 1) + 1  # smallest x with p * ref // x <= price


def _collateral_term(s: Split) -> int:
    """percentMul(C, avgLT) of the fixed collateral (all of it, when only debt moves)."""
    average = s.fixed_weighted // s.fixed_collateral if s.fixed_collateral else 0
    return (s.fixed_collateral * average + HALF_PERCENT) // PERCENTAGE_FACTOR


def average_seed(s: Split, prices: dict[str, int], ref_now: int, avg_now_bps: int
                 ) -> int | None:
    """The boundary x where percentMul(C, avgLT) = D, with every moving value scaled by the
    moving prices' factor k (x / ref_now, or ref_now / x on the ETH axis) and the average LT
    floored as the pool floors it: solved at the floored average of the exact-LT boundary
    (today's average when there is none), then re-solved at the average of its own answer
    until it settles. Per-leg floors are ignored (a unit or two): only a seed, for several
    moving legs or an unproven curve (the solver confirms it)."""
    c_mov, w_mov, d_mov = _moving_values(s, prices)
    average, previous = _exact_lt_average(s, c_mov, w_mov, d_mov) or avg_now_bps, -1
    scale: tuple[int, int] | None = None
    for _ in range(MAX_SEED_ROUNDS):
        # avg * (C_fix + k c_mov) = 1e4 (D_fix + k d_mov)  =>  k = num / den
        scale = _level_scale(s, c_mov, d_mov, average)
        if scale is None:
            return None
        settled = _floored_average(s, c_mov, w_mov, scale)
        if settled == average or settled == 0:
            break
        if settled == previous:
            # Two averages, each solving to the other's stretch: HF crosses 1 where the
            # floored average steps between them, W = level * C (the boundary is that jump)
            scale = _step_scale(s, c_mov, w_mov, max(settled, average)) or scale
            break
        previous, average = average, settled
    return None if scale is None else _axis_price(s, scale, ref_now)


def average_step(s: Split, prices: dict[str, int], ref_now: int, level_bps: int
                 ) -> int | None:
    """Where the exact average LT Σ value * LT / Σ value reaches `level_bps`: the edge of a
    stretch of one floored average (crossing.py's dip search bisected each, ~30
    evaluations). Per-leg floors are ignored: only a seed."""
    c_mov, w_mov, _ = _moving_values(s, prices)
    scale = _step_scale(s, c_mov, w_mov, level_bps)
    return None if scale is None else _axis_price(s, scale, ref_now)


def level_boundary(s: Split, prices: dict[str, int], ref_now: int, level_bps: int
                   ) -> int | None:
    """Where HF crosses 1 while the floored average LT stays `level_bps`: percentMul(C,
    level) = D, solved for the moving values' factor. Per-leg floors ignored: a seed."""
    c_mov, _, d_mov = _moving_values(s, prices)
    scale = _level_scale(s, c_mov, d_mov, level_bps)
    return None if scale is None else _axis_price(s, scale, ref_now)


def _moving_values(s: Split, prices: dict[str, int]) -> tuple[int, int, int]:
    """The moving legs' collateral, Σ value * LT and debt at today's prices (ETH wei)."""
    c_mov = w_mov = d_mov = 0
    for leg in s.moving:
        price = prices[leg.asset]
        value = price * leg.collateral_raw // leg.unit
        c_mov, w_mov = c_mov + value, w_mov + value * leg.lt_bps
        d_mov += price * leg.debt_raw // leg.unit
    return c_mov, w_mov, d_mov


def _level_scale(s: Split, c_mov: int, d_mov: int, level_bps: int) -> tuple[int, int] | None:
    """The factor k = num / den of the moving values where level * (C_fix + k c_mov) =
    1e4 * (D_fix + k d_mov)."""
    return _positive_ratio(PERCENTAGE_FACTOR * s.fixed_debt - level_bps * s.fixed_collateral,
                           level_bps * c_mov - PERCENTAGE_FACTOR * d_mov)


def _step_scale(s: Split, c_mov: int, w_mov: int, level_bps: int) -> tuple[int, int] | None:
    """The factor k = num / den of the moving values where W = level * C."""
    return _positive_ratio(level_bps * s.fixed_collateral - s.fixed_weighted,
                           w_mov - level_bps * c_mov)


def _axis_price(s: Split, scale: tuple[int, int], ref_now: int) -> int | None:
    """The axis price at which the moving prices are k = num / den times today's."""
    num, den = scale
    x = ref_now * num // den if s.direction > 0 else ref_now * den // num
    return x if x > 0 else None


def _floored_average(s: Split, c_mov: int, w_mov: int, scale: tuple[int, int]) -> int:
    """The floored average LT with the moving values scaled by k = num / den (0 without
    collateral): W / C with both taken times den."""
    num, den = scale
    collateral = s.fixed_collateral * den + c_mov * num
    return (s.fixed_weighted * den + w_mov * num) // collateral if collateral else 0


def _exact_lt_average(s: Split, c_mov: int, w_mov: int, d_mov: int) -> int | None:
    """The floored average LT at the exact-LT boundary, where Σ value * LT = 1e4 * D: k =
    (W_fix - 1e4 D_fix) / (1e4 d_mov - w_mov). Today's average can be far from it (no
    solution at all when the moving legs' share sets the average that crosses): then the
    re-solving never started from the right stretch. None when that k is not positive."""
    scale = _positive_ratio(s.fixed_weighted - PERCENTAGE_FACTOR * s.fixed_debt,
                            PERCENTAGE_FACTOR * d_mov - w_mov)
    return None if scale is None else _floored_average(s, c_mov, w_mov, scale)


def _positive_ratio(num: int, den: int) -> tuple[int, int] | None:
    """num / den with a positive denominator, when the ratio is positive; else None."""
    if den < 0:
        num, den = -num, -den
    return None if den == 0 or num <= 0 else (num, den)
