"""Where Aave v3's health factor saws at the scale of single price units, and a certificate
that it cannot beyond a point (the sawn-boundary search of scanner/pipeline/crossing.py).

With collateral and debt both moving with the axis, each leg's value is floored (v3.5+ debt:
ceiled) on its own, so near its crossing the health factor is not monotone at the scale of
single units of the axis price: the verdict can flip a few times over a few units, and a
bisection lands on any of those crossings, not necessarily the first one met from today.

The certificate. G(x) = Σ(C_i·LT_i) + 5000 - 1e4·D(x) (v3.0-3.4 with one collateral LT, where
avgLT = LT exactly) or Σ(C_i·LT_i) - 1e4·D(x) (v3.5+) is >= 0 only where the position is
healthy. Each moving leg's value is within (raw // unit + 2) units of a linear function of x
(its price `source_now * x // ref` and its value both floored, or the value ceiled), so G is
within `bound` (Σ LT_i or 1e4, times those) of a linear function whose slope has the sign
computed here. Where that slope is >= 0, G(t) >= bound proves G > 0 at every x >= t; where it
is <= 0, at every x <= t. Beyond such a t nothing saws; before it, crossing.py searches.

And an interval test: C, Σ(C_i·LT_i) and D never fall as x rises (every moving price is
`source_now * x // ref`), so G on [p, q] is at least the G of (Σ(C_i·LT_i) at p, D at q).

Mixed LTs before v3.5, every collateral leg moving. avgLT = floor(W / C) then stays one integer
L wherever C is large enough, so G = C·L + 5000 - 1e4·D there and the certificate above holds
with L for every leg. Why: with C_i = a_i·y - ε_i (y = x / ref, a_i = raw_i·source_now_i /
unit_i, 0 <= ε_i < raw_i / unit_i + 1 = e_i), W / C = R - Σ(LT_i - R)·ε_i / C, where
R = Σ a_i·LT_i / Σ a_i does not depend on x. So |W / C - R| < E / C with E = Σ|LT_i - R|·e_i,
and floor(W / C) = floor(R) = L wherever E / C <= min(frac R, 1 - frac R). C never falls as x
rises, so that holds at every price from the first one where it does on: the certificate
and the interval test prove nothing below it (`stable_from`). R an integer: no certificate
(W / C may fall just below it, and avgLT with it). Such a position can only be liquidated by a
falling price (all its collateral moves: HF never falls as x rises), so only that side has one.
"""

from __future__ import annotations

import math
from fractions import Fraction

from scanner.protocols.aave_v3.axis_sums import AxisSums, TotalsTuple
from scanner.protocols.aave_v3.generic_logic import PERCENTAGE_FACTOR

HALF_PERCENT = PERCENTAGE_FACTOR // 2


class SawBound:
    """The certificate's constants for one curve (see the module docstring)."""

    __slots__ = ("bound", "half", "lt_bps", "slope_sign", "stable_from")

    def __init__(self, bound: int, half: int, slope_sign: int, lt_bps: int = 0,
                 stable_from: int = 0) -> None:
        self.bound = bound
        self.half = half  # 5000 where percentMul rounds half up (v3.0-3.4), else 0
        self.slope_sign = slope_sign
        # mixed LTs before v3.5: the constant avgLT, and the least total collateral (8 dec)
        # from which it is proven constant; 0: G from the weighted sum itself
        self.lt_bps = lt_bps
        self.stable_from = stable_from

    def margin(self, totals: TotalsTuple) -> int:
        """G - bound at one x: >= 0 proves every x beyond it (by the slope's sign) healthy."""
        return self.lower(totals, totals) - self.bound

    def lower(self, at_low: TotalsTuple, at_high: TotalsTuple) -> int:
        """G's least value on [p, q] from the totals at p and q (>= 0: all healthy); -1 where
        the average LT is not proven constant from p on (nothing proven)."""
        lt_bps = self.lt_bps
        if not lt_bps:
            return at_low[4] + self.half - PERCENTAGE_FACTOR * at_high[1]
        if at_low[0] < self.stable_from:
            return -1
        return at_low[0] * lt_bps + self.half - PERCENTAGE_FACTOR * at_high[1]


def saw_bound(sums: AxisSums, collateral_lts: frozenset[int]) -> SawBound | None:
    """The certificate where the health factor can saw this way: collateral and debt both
    moving, every moving price its own source's (no fallback that could jump), and before
    v3.5 one collateral LT or every collateral leg moving (a floored average LT over fixed
    and moving collateral dips instead: crossing.py's other search). None elsewhere: a curve
    with one side moving is monotone at every scale."""
    moving = sums.moving
    collateral_moves = debt_moves = False
    for leg in moving:
        if not leg[1] or leg[2]:
            return None
        collateral_moves = collateral_moves or leg[6] > 0
        debt_moves = debt_moves or leg[7] > 0
    if not (collateral_moves and debt_moves):
        return None
    constant_lt = stable_from = 0
    if not sums.ceil_debt and len(collateral_lts) != 1:
        found = _constant_average_lt(sums)
        if found is None:
            return None
        constant_lt, stable_from = found
    bound = 0
    slope = Fraction(0)
    for leg in moving:
        source_now, unit, collateral_raw, debt_raw = leg[0], leg[5], leg[6], leg[7]
        lt_bps = constant_lt or leg[8]
        assert source_now is not None  # a moving source has a price (compile_sums)
        if collateral_raw:
            bound += lt_bps * (collateral_raw // unit + 2)
            slope += Fraction(lt_bps * collateral_raw * source_now, unit)
        if debt_raw:
            bound += PERCENTAGE_FACTOR * (debt_raw // unit + 2)
            slope -= Fraction(PERCENTAGE_FACTOR * debt_raw * source_now, unit)
    sign = 1 if slope > 0 else -1 if slope < 0 else 0
    if constant_lt and sign != 1:  # G < 0 at every price: never healthy, nothing to certify
        return None
    return SawBound(bound, 0 if sums.ceil_debt else HALF_PERCENT, sign, constant_lt, stable_from)


def _constant_average_lt(sums: AxisSums) -> tuple[int, int] | None:
    """(L, the least total collateral from which floor(W / C) = L), for collateral that all
    moves with the axis (module docstring); None with fixed collateral, or R an integer."""
    if sums.collateral_fixed_8dec or sums.weighted_fixed:
        return None
    slopes = Fraction(0)
    weighted = Fraction(0)
    for leg in sums.moving:
        source_now, unit, collateral_raw, lt_bps = leg[0], leg[5], leg[6], leg[8]
        assert source_now is not None  # a moving source has a price (compile_sums)
        if collateral_raw:
            slopes += Fraction(collateral_raw * source_now, unit)
            weighted += Fraction(collateral_raw * source_now * lt_bps, unit)
    if slopes == 0:
        return None
    ratio = weighted / slopes
    lt_bps = math.floor(ratio)
    if ratio == lt_bps:
        return None
    room = min(ratio - lt_bps, lt_bps + 1 - ratio)
    spread = Fraction(0)
    for leg in sums.moving:
        unit, collateral_raw = leg[5], leg[6]
        if collateral_raw:
            spread += abs(leg[8] - ratio) * (Fraction(collateral_raw, unit) + 1)
    return lt_bps, math.ceil(spread / room)
