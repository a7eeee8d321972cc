"""The first crossing of HF = 1 as the axis moves away from the current price.

Aave v3.0-3.4 floors the average liquidation threshold to whole bps, so the health factor of a
position whose collateral mixes axis and non-axis assets with different LTs is not monotone in
the axis price: each time the floored average drops by one bps, HF drops by ~1/avgLT (about
1.3e-4) and then climbs again. Near the boundary this leaves "dips": the price falls, HF
stays above 1, touches it, recovers... A bisection finds *a* crossing; a price falling from
today meets the *highest* one first (lowest one for a rally). This module finds that one.

Where dips can be: floor(W/C) >= W/C - 1 gives the bound
    HF >= ((W - C)/1e4 - 1) * 1e18 / D - 1,
with W = Σ value_i * LT_i, C = Σ value_i, D = debt. Once the bound itself is >= 1 no dip is
possible; W, C and D are (up to integer floors) affine in the axis price, so the bound is
monotone and the region where it fails is one short interval next to the first boundary
found. Inside it, avgLT is monotone in x and takes few values; on each stretch of constant
avgLT, HF is monotone, so its unhealthy part is a prefix or a suffix, found by bisection.

The same search serves any protocol through `HealthCurve.piece` (the floored avgLT for
Aave v3.0-3.4) and `surely_healthy` (always True for a monotone rule, which ends it at once).

Seeding: the edge z of the region where the bound fails is where the bound's margin (the
curve's `dip_margin`, when it has one) crosses 0. The margin is affine in x up to integer
floors, so one secant step through the two ends of the bracket -- both already evaluated --
lands within a few units of z; a gallop around that point narrows the bracket and a bisection
ends it. Every point kept was evaluated, so z is a point where the bound's verdict flips, as
the plain bisection's is (per-leg floors can make it flicker near its zero, so the two may
settle on different flips); the dip search past it returns the same answer either way
(tests/unit/test_crossing.py). A curve whose margin is affine in 1 / x instead (Aave v2's ETH
axis, where the moving prices are `p * ref // x`) says so with `margin_in_inverse_x`, and the
secants are taken in 1 / x. Inside the region, a curve may seed the edges of its stretches
(`piece_edge(level, toward)`: where the exact average reaches the next level) and the
crossing on each (`piece_boundary(level)`: where HF = 1 at that average); each seed is
galloped from and the bracket bisected, as the boundary's is (tests/unit/test_aave_v2_dips.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from scanner.domain import HealthCurve

MAX_SEGMENTS: Final = 256  # avgLT moves a few bps across the dip region; this is a safety cap
# Galloping steps from a seed before the rest of the bracket is bisected: the seed is usually
# within a few units of the boundary, and a bad seed costs at most this many extra evaluations
# over a plain bisection.
MAX_GALLOP_STEPS: Final = 12
# An edge search (_seeded_edge) gallops this many steps from its first secant seed (which an
# affine margin puts within a few units of the edge); a bracket still wider than
# SECANT_NARROW units then takes up to SECANT_STEPS secant steps (a margin affine in 1 / x,
# whose first seed over [boundary, today] could miss by ~1e10 units).
FIRST_GALLOP_STEPS: Final = 6
SECANT_STEPS: Final = 8
SECANT_NARROW: Final = 64


def first_bisect(lo: int, hi: int, is_right: Callable[[int], bool]) -> int:
    """Smallest x in (lo, hi] with is_right(x), given not is_right(lo) and is_right(hi)."""
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if is_right(mid):
            hi = mid
        else:
            lo = mid
    return hi


def gallop(lo: int, hi: int, seed: int, is_right: Callable[[int], bool],
           steps: int = MAX_GALLOP_STEPS) -> tuple[int, int]:
    """Narrow (lo, hi) -- not is_right(lo), is_right(hi) -- to a bracket around `seed` by
    evaluating seed, seed -+ 1, 3, 7, ... (each evaluation keeps the invariant)."""
    right = is_right(seed)
    lo, hi = (lo, seed) if right else (seed, hi)
    step, x = 1, seed
    for _ in range(steps):
        x = x - step if right else x + step
        if not lo < x < hi:
            break
        if is_right(x) != right:  # crossed: the boundary is between x and the last point
            return (x, hi) if right else (lo, x)
        lo, hi = (lo, x) if right else (x, hi)
        step *= 2
    return lo, hi


def _margin_of(curve: HealthCurve) -> Callable[[int], int] | None:
    """The curve's signed bound margin (surely_healthy(x) is margin(x) >= 0), if it has one:
    only the rules that can dip define it, so it stays out of the HealthCurve protocol."""
    found: Callable[[int], int] | None = getattr(curve, "dip_margin", None)
    return found


def _in_inverse_x(curve: HealthCurve) -> bool:
    """Whether the curve's margins are affine in 1 / x rather than in x (up to floors): the
    moving prices `p * ref // x` of Aave v2's ETH axis. Only such a rule says so."""
    return bool(getattr(curve, "margin_in_inverse_x", False))


def _bound_edge(curve: HealthCurve, lo: int, hi: int, is_right: Callable[[int], bool]) -> int:
    """first_bisect(lo, hi, is_right) for is_right = surely_healthy or its negation, seeded
    by the secant of the margin through lo and hi (the caller evaluated both)."""
    return _seeded_edge(_margin_of(curve), lo, hi, is_right, _in_inverse_x(curve))


def _seeded_edge(margin: Callable[[int], int] | None, lo: int, hi: int,
                 is_right: Callable[[int], bool], inverse: bool = False) -> int:
    """first_bisect(lo, hi, is_right) where is_right is `margin >= 0` or its negation and the
    margin is monotone, affine up to floors in x (or in 1 / x when `inverse`: the moving
    prices `p * ref // x` of Aave v2's ETH axis): its secant in that variable through lo and
    hi lands within a few units of the edge, which a short gallop brackets. Where floors or
    a wrong guess of the variable leave the bracket wide, secant steps (Illinois) narrow it,
    each point kept evaluated, and a gallop around the last seed ends it."""
    if margin is None or hi - lo <= 2:
        return first_bisect(lo, hi, is_right)
    secant = _inverse_secant if inverse else _secant
    margin_lo, margin_hi = margin(lo), margin(hi)
    if margin_hi == margin_lo:  # the signs differ, so never equal: a guard for the division
        return first_bisect(lo, hi, is_right)
    lo, hi = gallop(lo, hi, secant(lo, hi, margin_lo, margin_hi), is_right, FIRST_GALLOP_STEPS)
    if hi - lo <= SECANT_NARROW:
        return first_bisect(lo, hi, is_right)
    margin_lo, margin_hi = margin(lo), margin(hi)  # evaluated by the gallop: remembered
    kept = 0  # +1 / -1: the same end kept by the last step(s) (Illinois halves its margin)
    for _ in range(SECANT_STEPS):
        if margin_hi == margin_lo or hi - lo <= SECANT_NARROW:
            break
        seed = secant(lo, hi, margin_lo, margin_hi)
        at = margin(seed)
        if is_right(seed):
            hi, margin_hi = seed, at
            margin_lo, kept = (margin_lo // 2 if kept < 0 else margin_lo), -1
        else:
            lo, margin_lo = seed, at
            margin_hi, kept = (margin_hi // 2 if kept > 0 else margin_hi), 1
    if hi - lo > 2 and margin_hi != margin_lo:
        lo, hi = gallop(lo, hi, secant(lo, hi, margin_lo, margin_hi), is_right)
    return first_bisect(lo, hi, is_right)


def _secant(lo: int, hi: int, margin_lo: int, margin_hi: int) -> int:
    """Where the line through (lo, margin_lo) and (hi, margin_hi) crosses 0, inside (lo, hi)
    (hi - lo > 2, the margins unequal)."""
    seed = lo + (-margin_lo) * (hi - lo) // (margin_hi - margin_lo)
    return min(max(seed, lo + 1), hi - 1)


def _inverse_secant(lo: int, hi: int, margin_lo: int, margin_hi: int) -> int:
    """Where the margin a + b / x through (lo, margin_lo) and (hi, margin_hi) crosses 0
    (x = -b / a), inside (lo, hi); the straight secant where that has no zero (a = 0)."""
    denominator = margin_hi * hi - margin_lo * lo  # a * (hi - lo)
    if denominator == 0 or lo <= 0:
        return _secant(lo, hi, margin_lo, margin_hi)
    seed = (margin_hi - margin_lo) * lo * hi // denominator
    return min(max(seed, lo + 1), hi - 1)


def highest_unhealthy_below(curve: HealthCurve, boundary: int, now: int) -> int | None:
    """Highest x in (boundary, now] with HF(x) < 1, or None (falling-price side)."""
    lo = boundary + 1
    if lo > now:
        return None
    saw = _saw_of(curve)
    if saw is not None and saw(lo, True) is not None:
        settled, sawn = _highest_sawn(curve, saw, lo, now)
        if settled:
            return sawn
    if curve.surely_healthy(lo):
        return None
    hi = now
    if curve.surely_healthy(now):  # the bound holds from some z on: dips only below it
        hi = _bound_edge(curve, lo, now, curve.surely_healthy) - 1
    found = [u[1] for u in _unhealthy_parts(curve, lo, hi) if u is not None]
    return max(found) if found else None


def lowest_unhealthy_above(curve: HealthCurve, now: int, boundary: int) -> int | None:
    """Lowest x in [now, boundary) with HF(x) < 1, or None (rising-price side)."""
    if boundary - 1 < now:
        return None
    saw = _saw_of(curve)
    if saw is not None and saw(boundary - 1, False) is not None:
        settled, sawn = _lowest_sawn(curve, saw, now, boundary - 1)
        if settled:
            return sawn
    if curve.surely_healthy(boundary - 1):
        return None
    lo = now
    if curve.surely_healthy(now):  # the bound holds up to some z: dips only above it
        lo = _bound_edge(curve, now, boundary - 1, lambda x: not curve.surely_healthy(x))
    found = [u[0] for u in _unhealthy_parts(curve, lo, boundary - 1) if u is not None]
    return min(found) if found else None


def _unhealthy_parts(curve: HealthCurve, lo: int, hi: int) -> list[tuple[int, int] | None]:
    """Unhealthy interval of each constant-avgLT stretch of [lo, hi]."""
    parts: list[tuple[int, int] | None] = []
    start = lo
    while start <= hi and len(parts) < MAX_SEGMENTS:
        level = curve.piece(start)

        def level_changed(x: int, level: int = level) -> bool:
            return curve.piece(x) != level

        end = hi if not level_changed(hi) else _level_edge(curve, start, hi, level_changed) - 1
        parts.append(_unhealthy_part(curve, start, end))
        start = end + 1
    return parts


def _level_edge(curve: HealthCurve, lo: int, hi: int, changed: Callable[[int], bool]) -> int:
    """first_bisect(lo, hi, changed), where `changed` says the floored average left the level
    it has at lo: seeded by the curve's own `piece_edge` when it offers one (where the exact
    average reaches the next level)."""
    edge: Callable[[int, int], int | None] | None = getattr(curve, "piece_edge", None)
    seed = None if edge is None or hi - lo <= 2 else edge(curve.piece(lo), curve.piece(hi))
    return _bisect_from(seed, lo, hi, changed)


def _bisect_from(seed: int | None, lo: int, hi: int, is_right: Callable[[int], bool]) -> int:
    """first_bisect(lo, hi, is_right), galloping first from `seed` (moved inside the bracket)
    when there is one, as the boundary search does."""
    if seed is not None and hi - lo > 2:
        lo, hi = gallop(lo, hi, min(max(seed, lo + 1), hi - 1), is_right)
    return first_bisect(lo, hi, is_right)


def _unhealthy_part(curve: HealthCurve, lo: int, hi: int) -> tuple[int, int] | None:
    """On [lo, hi] HF is monotone: its unhealthy points form a prefix or a suffix."""
    lo_ok, hi_ok = curve.healthy(lo), curve.healthy(hi)
    if lo_ok and hi_ok:
        return None
    if not lo_ok and not hi_ok:
        return lo, hi
    if not lo_ok:  # unhealthy prefix [lo, t]
        return lo, _stretch_edge(curve, lo, hi, curve.healthy) - 1
    return _stretch_edge(curve, lo, hi, lambda x: not curve.healthy(x)), hi  # unhealthy suffix


def _stretch_edge(curve: HealthCurve, lo: int, hi: int, is_right: Callable[[int], bool]) -> int:
    """first_bisect(lo, hi, is_right) on a stretch of one floored average, seeded by the
    curve's own `piece_boundary` (where HF crosses 1 at that average) when it offers one."""
    boundary: Callable[[int], int | None] | None = getattr(curve, "piece_boundary", None)
    seed = None if boundary is None or hi - lo <= 2 else boundary(curve.piece(lo))
    return _bisect_from(seed, lo, hi, is_right)


# --- sawn boundaries (collateral and debt both moving: unit-scale floors) ------------------
# A curve whose per-leg floors can saw its health factor near the crossing offers
# `saw_margin(x, down)` (>= 0: every price from x away from the crossing is proven healthy;
# None: it cannot saw that way) and `saw_healthy_between(low, high)` (all of it proven
# healthy). Between the crossing found and the certificate's edge, the verdict is searched
# exhaustively, pruned by the interval test.

SawMargin = Callable[[int, bool], "int | None"]
# Below this many units an interval is evaluated unit by unit instead of tested and split.
SAW_SCAN_UNITS: Final = 8
# Intervals examined at most by one search: a position hedged almost exactly (the line's slope
# near 0) can saw over a very long band; past this the search before this one decides (the
# dip search, or the boundary already found) (random positions of the kind need ~50 rule
# evaluations).
MAX_SAW_INTERVALS: Final = 4_096


def _saw_of(curve: HealthCurve) -> SawMargin | None:
    found: SawMargin | None = getattr(curve, "saw_margin", None)
    return found


# (settled, x): x the extreme unhealthy price (None: there is none) when settled; not settled
# when the search ran out of intervals
Sawn = tuple[bool, "int | None"]


def _highest_sawn(curve: HealthCurve, saw: SawMargin, lo: int, hi: int) -> Sawn:
    """Highest unhealthy x in [lo, hi] (falling-price side; saw(lo, True) is not None)."""
    def margin(x: int) -> int:
        found = saw(x, True)
        assert found is not None  # the same curve and direction: never None once not None
        return found

    if margin(lo) >= 0:
        return True, None
    top = hi
    if margin(hi) >= 0:  # the certificate holds from some t on: nothing unhealthy beyond
        top = _seeded_edge(margin, lo, hi, lambda x: margin(x) >= 0, _in_inverse_x(curve)) - 1
    return _extreme_unhealthy(curve, lo, top, highest=True)


def _lowest_sawn(curve: HealthCurve, saw: SawMargin, lo: int, hi: int) -> Sawn:
    """Lowest unhealthy x in [lo, hi] (rising-price side; saw(hi, False) is not None)."""
    def margin(x: int) -> int:
        found = saw(x, False)
        assert found is not None
        return found

    if margin(hi) >= 0:
        return True, None
    bottom = lo
    if margin(lo) >= 0:  # the certificate holds up to some t: nothing unhealthy before
        bottom = _seeded_edge(margin, lo, hi, lambda x: margin(x) < 0, _in_inverse_x(curve))
    return _extreme_unhealthy(curve, bottom, hi, highest=False)


def _extreme_unhealthy(curve: HealthCurve, lo: int, hi: int, highest: bool) -> Sawn:
    """The highest (or lowest) unhealthy x in [lo, hi]: intervals proven healthy are
    skipped, the others split, the shortest evaluated unit by unit. (True, None) when there
    is none; (False, None) when MAX_SAW_INTERVALS run out (the caller's other search decides)."""
    between: Callable[[int, int], bool] | None = getattr(curve, "saw_healthy_between", None)
    assert between is not None  # a curve with saw_margin has it
    pending = [(lo, hi)]
    for _ in range(MAX_SAW_INTERVALS):
        if not pending:
            break
        low, high = pending.pop()
        if high < low:
            continue
        if high - low < SAW_SCAN_UNITS:
            units = range(high, low - 1, -1) if highest else range(low, high + 1)
            for x in units:
                if not curve.healthy(x):
                    return True, x
            continue
        if between(low, high):
            continue
        mid = (low + high) // 2
        halves = [(low, mid), (mid + 1, high)]
        pending += halves if highest else halves[::-1]  # the side searched first, popped first
    return not pending, None
