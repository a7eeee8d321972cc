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
Or: G stays within `bound` of a line, whose least value on [p, q] is at p or q, so G >= bound
at both ends proves all of [p, q] (long intervals where the line is nearly flat: hedged).

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

Any other mix of LTs before v3.5 (fixed and moving collateral: the average LT itself moves with
x, crossing.py's dips). C·floor(W / C) >= W - C + 1, so G >= G' = W - C + 1 + 5000 - 1e4·D,
whose legs weigh LT_i - 1: the certificate holds for G' with those weights (a looser one: G'
gives up ~1/avgLT of HF). Its interval test: on [p, q], floor(W / C) >= floor(W(p) / C(q)),
so G >= C(p)·floor(W(p) / C(q)) + 5000 - 1e4·D(q). A tighter floor of avgLT there: W/C =
r~ - Σ(LT_i - r~)·ε_i / C with r~ = (W_fixed + Σ LT_i·a_i·y) / (C_fixed + Σ a_i·y), which is
monotone in y (a ratio of two affine functions), so on [p, q] W/C >= min(W/C at p, at q) -
2·spread·Σ e_i / C(p) (spread: the LTs' max - min). With L the floor of either, G >= G_L (G
with avgLT = L), which stays within L·Σ(raw_i // unit + 2) + 1e4·Σ(debt_j // unit + 2) of a
line: the second test applies to it.
"""

from __future__ import annotations

import math
from fractions import Fraction

from scanner.protocols.aave_v3.axis_sums import AxisSums, TotalsTuple
from scanner.protocols.aave_v3.generic_logic import PERCENTAGE_FACTOR

HALF_PERCENT = PERCENTAGE_FACTOR // 2


class SawBound:
    """The certificate's constants for one curve (see the module docstring)."""

    __slots__ = ("bound", "collateral_units", "debt_units", "half", "loose", "lt_bps",
                 "lt_spread", "min_x", "slope_sign", "stable_from")

    def __init__(self, bound: int, half: int, slope_sign: int, lt_bps: int = 0,
                 stable_from: int = 0, loose: bool = False, collateral_units: int = 0,
                 debt_units: int = 0, lt_spread: int = 0, min_x: int = 0) -> None:
        self.bound = bound
        self.half = half  # 5000 where percentMul rounds half up (v3.0-3.4), else 0
        self.slope_sign = slope_sign
        # mixed LTs before v3.5: the constant avgLT, and the least total collateral (8 dec)
        # from which it is proven constant; 0: G from the weighted sum itself
        self.lt_bps = lt_bps
        self.stable_from = stable_from
        # any other mix of LTs before v3.5: the certificate is on G', and the interval test
        # needs the moving legs' Σ(raw // unit + 2) of each side to bound G with a floor L
        self.loose = loose
        self.collateral_units = collateral_units
        self.debt_units = debt_units
        self.lt_spread = lt_spread  # the collateral LTs' max - min
        # the least x where every eMode source's price is non-zero (no fallback to the
        # asset's own price): nothing below it is proven
        self.min_x = min_x

    def margin(self, totals: TotalsTuple) -> int:
        """G - bound at one x: >= 0 proves every x beyond it (by the slope's sign) healthy."""
        if self.loose:  # G' = W - C + 1 + 5000 - 1e4·D
            return (totals[4] - totals[0] + 1 + self.half - PERCENTAGE_FACTOR * totals[1]
                    - self.bound)
        if self.lt_bps and totals[0] < self.stable_from:
            return -1  # the average LT is not proven constant here: nothing proven
        return self._g(totals, self.lt_bps) - self.bound

    def _g(self, totals: TotalsTuple, lt_bps: int) -> int:
        """G at one x: with avgLT = lt_bps, or (0) from the weighted sum itself."""
        weighted = totals[0] * lt_bps if lt_bps else totals[4]
        return weighted + self.half - PERCENTAGE_FACTOR * totals[1]

    def least_average_lt(self, at_low: TotalsTuple, at_high: TotalsTuple) -> int:
        """A floor of avgLT on all of [p, q], the larger of two (module docstring):
        floor(W(p) / C(q)); and floor(min(W/C at p, at q) - 2·spread·Σ(raw_i // unit + 2) /
        C(p)), from W/C's exact part being monotone and its floors moving it less than
        spread·Σ(...) / C."""
        collateral_low, collateral_high = at_low[0], at_high[0]
        if not collateral_low:
            return 0
        by_sides = at_low[4] // collateral_high
        if at_low[4] * collateral_high <= at_high[4] * collateral_low:  # the lesser W/C
            weighted_end, collateral_end = at_low[4], collateral_low
        else:
            weighted_end, collateral_end = at_high[4], collateral_high
        jitter = 2 * self.lt_spread * self.collateral_units
        by_ends = ((weighted_end * collateral_low - jitter * collateral_end)
                   // (collateral_end * collateral_low))
        return max(by_sides, by_ends)

    def healthy_between(self, at_low: TotalsTuple, at_high: TotalsTuple) -> bool:
        """Every x of [p, q] proven healthy, from the totals at p and q. Two tests, either
        enough: G's least value from the sides' extremes (C(p), W(p), D(q)); and G at both
        ends at least `bound` above 0 (G stays within it of a line, whose least value on
        [p, q] is at an end) -- the one that proves long intervals of a hedged position."""
        lt_bps = self.lt_bps
        if self.loose:  # avgLT >= L on [p, q] (least_average_lt), so G >= G with L
            lt_bps = self.least_average_lt(at_low, at_high)
            if lt_bps <= 0:
                return False
            bound = lt_bps * self.collateral_units + PERCENTAGE_FACTOR * self.debt_units
        else:
            if lt_bps and at_low[0] < self.stable_from:
                return False
            bound = self.bound
        if (at_low[0] * lt_bps if lt_bps else at_low[4]) + self.half >= (
                PERCENTAGE_FACTOR * at_high[1]):
            return True
        return min(self._g(at_low, lt_bps), self._g(at_high, lt_bps)) >= bound


def saw_bound(sums: AxisSums, collateral_lts: frozenset[int]) -> SawBound | None:
    """The certificate where the health factor can saw this way: collateral and debt both
    moving, every moving price its source's (an eMode source falls back to the asset's own
    price only where it is 0: below `min_x`, where nothing is claimed). Before
    v3.5 with several collateral LTs: L for every leg where the average LT is constant, else
    the looser G' (module docstring). None elsewhere: a curve with one side moving is
    monotone at every scale (but for the average LT's own dips, crossing.py's other search)."""
    moving = sums.moving
    collateral_moves = debt_moves = False
    min_x = 0
    for leg in moving:
        if not leg[1] or not leg[0]:
            return None
        if leg[2]:  # an eMode source: its own price unless that is 0, below this x only
            min_x = max(min_x, -(-sums.ref_now_8dec // leg[0]))
        collateral_moves = collateral_moves or leg[6] > 0
        debt_moves = debt_moves or leg[7] > 0
    if not (collateral_moves and debt_moves):
        return None
    constant_lt = stable_from = 0
    loose = False
    if not sums.ceil_debt and len(collateral_lts) != 1:
        found = _constant_average_lt(sums)
        if found is None:
            loose = True
        else:
            constant_lt, stable_from = found
    bound = collateral_units = debt_units = 0
    # the slope's sign, over the legs' common unit: integers, not Fractions (per curve)
    common_unit = math.lcm(*(leg[5] for leg in moving))
    slope = 0
    for leg in moving:
        source_now, unit, collateral_raw, debt_raw = leg[0], leg[5], leg[6], leg[7]
        lt_bps = leg[8] - 1 if loose else constant_lt or leg[8]  # G' weighs LT_i - 1
        assert source_now is not None  # a moving source has a price (compile_sums)
        collateral_units += collateral_raw // unit + 2 if collateral_raw else 0
        debt_units += debt_raw // unit + 2 if debt_raw else 0
        if collateral_raw:
            bound += abs(lt_bps) * (collateral_raw // unit + 2)
            slope += lt_bps * collateral_raw * source_now * (common_unit // unit)
        if debt_raw:
            bound += PERCENTAGE_FACTOR * (debt_raw // unit + 2)
            slope -= PERCENTAGE_FACTOR * debt_raw * source_now * (common_unit // unit)
    sign = 1 if slope > 0 else -1 if slope < 0 else 0
    if constant_lt and sign != 1:  # G < 0 at every price: never healthy, nothing to certify
        return None
    return SawBound(bound, 0 if sums.ceil_debt else HALF_PERCENT, sign, constant_lt, stable_from,
                    loose, collateral_units, debt_units,
                    max(collateral_lts) - min(collateral_lts) if collateral_lts else 0, min_x)


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
