"""When Aave v3's health factor is provably monotone in the axis price, and where its
boundary lies (the solver's fast path, scanner/pipeline/monotone.py).

From the compiled sums (axis_sums.py): every moving leg's price `source_now * x // ref` and
every value floor (or v3.5+ debt ceiling) never fall as x rises, so Σ collateral, Σ weighted
and Σ debt are non-decreasing in x. The health factor is then monotone when:

* only collateral moves, and the average LT cannot move against it: v3.5+ (HF from Σ weighted
  directly) or, in v3.0-3.4, every collateral leg has the same LT (then avgLT = LT exactly);
* only debt moves (the collateral side, avgLT included, is fixed) and the debt stays below
  1 WAD (1e10 USD), which makes `(A * WAD + D // 2) // D` non-increasing in D;
* nothing moves: HF is the same at every x.

An eMode price source that may floor to zero inside the range switches that leg to its
asset's own price (a jump): such a curve is not proven monotone.

The seed inverts the library's rounding exactly for one moving leg (the usual position) and
linearly for several; the solver confirms it with two evaluations either way.
"""

from __future__ import annotations

from typing import Final

from scanner.domain import WAD
from scanner.protocols.aave_v3.axis_sums import AxisSums, MovingLeg
from scanner.protocols.aave_v3.generic_logic import PERCENTAGE_FACTOR

# scanner.pipeline.liquidation.SENSITIVITY_RANGE: the solver looks at [now / 100, now * 100]
RANGE: Final = 100
HALF_PERCENT: Final = PERCENTAGE_FACTOR // 2
# v3.5+: HF = (W * WAD + D // 2) // D // 1e4 >= WAD  <=>  W * WAD + D // 2 >= 1e22 * D
CEIL_ONE: Final = WAD * PERCENTAGE_FACTOR


def _no_jump(leg: MovingLeg, ref: int) -> bool:
    """False when a fallback price source may floor to zero (and jump) inside the range."""
    source_now, source_moves, fallback = leg[0], leg[1], leg[2]
    if not fallback:
        return True
    if not source_moves:
        return True  # a fixed source: either always used or never
    return source_now is not None and source_now * max(1, ref // RANGE) // ref > 0


def monotone_sign(sums: AxisSums, collateral_lts: frozenset[int]) -> int | None:
    """+1 / -1 / 0 as in pipeline/monotone.py; None when not proven."""
    moving = sums.moving
    if not moving:
        return 0
    ref = sums.ref_now_8dec
    collateral_moves = debt_moves = False
    for leg in moving:  # one pass: any jump refuses the proof; which sides move
        if leg[2] and not _no_jump(leg, ref):
            return None
        collateral_moves = collateral_moves or bool(leg[6])
        debt_moves = debt_moves or bool(leg[7])
    if collateral_moves and debt_moves:
        return None
    if collateral_moves:
        if sums.ceil_debt or len(collateral_lts) == 1:
            return 1
        return 1 if _average_rises(sums) else None
    return -1 if _max_debt_8dec(sums) <= WAD else None


def moving_side(sums: AxisSums) -> int | None:
    """+1 when only collateral moves, -1 when only debt does, else None (no proof implied)."""
    collateral_moves = any(leg[6] for leg in sums.moving)
    debt_moves = any(leg[7] for leg in sums.moving)
    if collateral_moves == debt_moves:
        return None
    return 1 if collateral_moves else -1


def moving_lt_bps(sums: AxisSums) -> int | None:
    """The one LT every moving collateral leg has (None: they differ)."""
    lts = {leg[8] for leg in sums.moving if leg[6]}
    return lts.pop() if len(lts) == 1 else None


def _average_rises(sums: AxisSums) -> bool:
    """v3.0-3.4, collateral only moving, all at one LT a: avgLT = floor((W_f + a V) /
    (C_f + V)) with V the moving value; (W_f + a V) / (C_f + V) never falls as V rises when
    a * C_f >= W_f, so neither does its floor, nor HF."""
    a = moving_lt_bps(sums)
    return a is not None and a * sums.collateral_fixed_8dec >= sums.weighted_fixed


def _max_debt_8dec(sums: AxisSums) -> int:
    """An upper bound of Σ debt over the range (prices at most source_now * 100)."""
    bound = sums.debt_fixed_8dec
    for leg in sums.moving:
        price_high = max(leg[0] or 0, leg[3] or 0) * RANGE
        bound += leg[7] * price_high // leg[5] + 1
    return bound


def _source_price(leg: MovingLeg) -> int | None:
    """The moving price's value now, when it is the source's own (no fallback in play)."""
    return leg[0] if leg[1] and leg[0] else None


def percent_needed(debt_8dec: int) -> int:
    """v3.0-3.4: the smallest percent_mul(C, avgLT) with HF >= 1 at this debt."""
    return -((debt_8dec // 2 - WAD * debt_8dec) // WAD)


def collateral_needed(k: int, lt_bps: int) -> int:
    """The smallest C with (C * avgLT + 5000) // 1e4 >= k at avgLT = lt_bps (> 0)."""
    return -((HALF_PERCENT - PERCENTAGE_FACTOR * k) // lt_bps)


def down_seed(sums: AxisSums, lt_bps: int) -> int | None:
    """The smallest healthy x when only collateral moves (lt_bps: the LT at the boundary in
    v3.0-3.4, exact when every collateral leg has it)."""
    debt = sums.debt_fixed_8dec
    if debt == 0:
        return None
    if sums.ceil_debt:  # Σ weighted >= ceil((1e22 D - D // 2) / WAD)
        need = -((debt // 2 - CEIL_ONE * debt) // WAD) - sums.weighted_fixed
    else:  # percent >= k, then C * LT + 5000 >= 1e4 k
        if lt_bps == 0:
            return None
        need = collateral_needed(percent_needed(debt), lt_bps) - sums.collateral_fixed_8dec
    movers = [leg for leg in sums.moving if leg[6]]
    if len(movers) == 1:
        return _one_leg_down(sums, movers[0], need)
    return _linear_seed(sums, movers, need, collateral=True)


def moving_value_8dec(leg: MovingLeg, x: int, ref: int) -> int:
    """A moving collateral leg's value at x (its source price moves; no fallback)."""
    return leg[6] * (leg[0] * x // ref) // leg[5]  # type: ignore[operator]


# Rounds of re-solving at the average LT: each is a few integer operations, far cheaper than
# the ~50 rule evaluations a seed that has not settled costs the solver (4 rounds left ~2% of
# random WETH + WBTC accounts unsettled; 12 none).
MIXED_SEED_ROUNDS: Final = 12


def mixed_down_seed(sums: AxisSums, lt_now_bps: int) -> int | None:
    """down_seed when the average LT moves with x (one moving leg): re-solved at the average
    LT of its own previous answer until it settles or cycles."""
    movers = [leg for leg in sums.moving if leg[6]]
    if len(movers) != 1 or _source_price(movers[0]) is None:
        return down_seed(sums, lt_now_bps)
    leg, lt_bps, seed = movers[0], lt_now_bps, None
    tried: dict[int, int] = {}  # average LT -> down_seed at it
    for _ in range(MIXED_SEED_ROUNDS):
        found = down_seed(sums, lt_bps)
        if found is None or found == seed or found <= 0:
            return found
        tried[lt_bps] = seed = found
        collateral = sums.collateral_fixed_8dec + moving_value_8dec(
            leg, seed, sums.ref_now_8dec)
        weighted = sums.weighted_fixed + leg[8] * (collateral - sums.collateral_fixed_8dec)
        lt_bps = weighted // collateral if collateral else 0
        if lt_bps in tried:  # a cycle: the boundary is where the floored average LT steps
            return _at_the_step(sums, leg, tried, seed)
    return seed


def _at_the_step(sums: AxisSums, leg: MovingLeg, tried: dict[int, int], last: int) -> int:
    """The seed when re-solving cycles between average LTs (L at x, L + 1 at the seed of L):
    x is healthy when its collateral is enough at ITS average LT, so the smallest healthy x
    is the least, over the LTs L tried, of max(down_seed at L, the first x whose average LT
    reaches L). On the 10k devnet such a cycle left the seed ~4e-4 off (~55 evaluations)."""
    best: int | None = None
    for lt_bps, found in tried.items():
        reached = _first_x_at_lt(sums, leg, lt_bps)
        if reached is not None:
            candidate = max(found, reached)
            best = candidate if best is None else min(best, candidate)
    return last if best is None else best


def _first_x_at_lt(sums: AxisSums, leg: MovingLeg, lt_bps: int) -> int | None:
    """The smallest x whose floored average LT is >= lt_bps, the moving collateral leg (of a
    higher LT than lt_bps) valued at x; None when its LT is not higher (the average then
    falls as x rises)."""
    if leg[8] <= lt_bps:
        return None
    # (W_fixed + LT_leg v) // (C_fixed + v) >= L  <=>  v >= (L C_fixed - W_fixed) / (LT_leg - L)
    need = -((sums.weighted_fixed - lt_bps * sums.collateral_fixed_8dec) // (leg[8] - lt_bps))
    return _one_leg_down(sums, leg, need)


def _one_leg_down(sums: AxisSums, leg: MovingLeg, need: int) -> int | None:
    source_now, unit, raw, lt = _source_price(leg), leg[5], leg[6], leg[8]
    if source_now is None:
        return None
    if sums.ceil_debt:  # value * LT >= need
        need = -(-need // lt) if lt else need
    if need <= 0:
        return 1
    price = -(-need * unit // raw)  # raw * price // unit >= need
    return -(-price * sums.ref_now_8dec // source_now)  # source_now * x // ref >= price


def up_seed(sums: AxisSums) -> int | None:
    """The largest healthy x when only debt moves."""
    if sums.ceil_debt:  # largest D with 1e22 D - D // 2 <= W * WAD
        limit, one = sums.weighted_fixed * WAD, CEIL_ONE
    else:  # largest D with WAD D - D // 2 <= percent * WAD
        collateral = sums.collateral_fixed_8dec
        avg_lt = sums.weighted_fixed // collateral if collateral else 0
        limit, one = (collateral * avg_lt + HALF_PERCENT) // PERCENTAGE_FACTOR * WAD, WAD
    debt_max = 2 * limit // (2 * one - 1)
    while one * (debt_max + 1) - (debt_max + 1) // 2 <= limit:
        debt_max += 1
    while debt_max >= 0 and one * debt_max - debt_max // 2 > limit:
        debt_max -= 1
    room = debt_max - sums.debt_fixed_8dec
    if room < 0:
        return None
    movers = [leg for leg in sums.moving if leg[7]]
    if len(movers) == 1:
        return _one_leg_up(sums, movers[0], room)
    return _linear_seed(sums, movers, room, collateral=False)


def _one_leg_up(sums: AxisSums, leg: MovingLeg, room: int) -> int | None:
    source_now, unit, raw = _source_price(leg), leg[5], leg[7]
    if source_now is None:
        return None
    # v3.5+: ceil(raw * price / unit) <= room; else raw * price // unit <= room
    price = room * unit // raw if sums.ceil_debt else ((room + 1) * unit - 1) // raw
    # source_now * x // ref <= price
    return ((price + 1) * sums.ref_now_8dec - 1) // source_now


def _linear_seed(sums: AxisSums, movers: list[MovingLeg], need: int,
                 collateral: bool) -> int | None:
    """Several moving legs: the floors ignored (a seed only)."""
    slope = 0.0
    for leg in movers:
        source_now = _source_price(leg)
        if source_now is None:
            return None
        raw = leg[6] if collateral else leg[7]
        weight = leg[8] if collateral and sums.ceil_debt else 1
        slope += raw * source_now * weight / (leg[5] * sums.ref_now_8dec)
    if slope <= 0:
        return None
    estimate = need / slope
    return int(estimate) if 0 < estimate < 1e30 else None
