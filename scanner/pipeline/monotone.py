"""The solver's fast path for a curve whose health is PROVABLY monotone in the axis price.

A curve may offer `monotone_sign()` (optional, outside the HealthCurve protocol):
  +1  HF never falls as x rises (the axis moves collateral only): DOWN or no boundary;
  -1  HF never rises as x rises (the axis moves debt only): UP or no boundary;
   0  HF does not depend on x at all: never a boundary;
  None  not proven (mixed exposure, a floored average LT over mixed thresholds, ...): the
        general solver of liquidation.py decides, probing both ends of the range.
and `boundary_seed()`: its best estimate of the boundary (DOWN: the smallest healthy x; UP:
the largest healthy x), or None; the general solver uses it too, when offered.

With monotonicity proven the healthy prices form one prefix or suffix of the range, so the
two range-end probes are skipped: existence follows from the two evaluations that confirm
the boundary (x and its neighbour across it), and there are no dips to search. A seed that
misses costs a gallop and a bisection, as in the general solver. Every returned price is a
point evaluated healthy next to a point evaluated unhealthy: the answer is exact.
"""

from __future__ import annotations

from collections.abc import Callable

from scanner.domain import Direction, HealthCurve
from scanner.pipeline.crossing import first_bisect

Boundary = tuple[Direction | None, int | None]


def monotone_sign(curve: HealthCurve) -> int | None:
    """The curve's proven direction of monotonicity, or None (see the module docstring)."""
    method: Callable[[], int | None] | None = getattr(curve, "monotone_sign", None)
    return None if method is None else method()


def boundary_seed(curve: HealthCurve) -> int | None:
    method: Callable[[], int | None] | None = getattr(curve, "boundary_seed", None)
    return None if method is None else method()


def _first_right(lo: int, hi: int, seed: int | None, is_right: Callable[[int], bool],
                 gallop: Callable[[int, int, int, Callable[[int], bool]], tuple[int, int]],
                 ) -> int | None:
    """Smallest x in (lo, hi] with is_right(x), where is_right is monotone (False... True) on
    [lo, hi]; None when there is none, or when lo itself is right (no crossing inside)."""
    if hi <= lo:
        return None
    s = min(max(lo + 1 if seed is None else seed, lo + 1), hi)
    if is_right(s):
        if not is_right(s - 1):
            return s  # the usual case: the seed is the boundary
        if s - 1 == lo:
            return None
        if is_right(lo):
            return None
        lo, hi = gallop(lo, s - 1, s - 2, is_right) if s - 2 > lo else (lo, s - 1)
        return first_bisect(lo, hi, is_right)
    if s == hi:
        return None
    if is_right(s + 1):
        return s + 1
    if not is_right(hi):
        return None
    lo, hi = gallop(s + 1, hi, s + 2, is_right) if s + 2 < hi else (s + 1, hi)
    return first_bisect(lo, hi, is_right)


def monotone_boundary(
    curve: HealthCurve, sign: int, x_low: int, x_high: int,
    gallop: Callable[[int, int, int, Callable[[int], bool]], tuple[int, int]],
    estimate: Callable[[HealthCurve, int, int], int | None] | None = None,
) -> Boundary:
    """find_boundary's answer for a curve of proven monotonicity `sign` (same result as the
    general solver, which probes x_low and x_high first). `estimate(curve, x_low, x_high)`
    seeds a curve that offers no `boundary_seed` of its own (several moving legs)."""
    if sign == 0:
        return None, None  # healthy or unhealthy at every price alike
    now = curve.price_now
    healthy_now = curve.healthy(now)
    seed = boundary_seed(curve)
    if seed is None and estimate is not None:
        seed = estimate(curve, x_low, x_high)
    if sign > 0:  # healthy prices are a suffix: the smallest healthy x, above x_low
        found = _first_right(x_low, now if healthy_now else x_high, seed, curve.healthy,
                             gallop)
        return (None, None) if found is None else (Direction.DOWN, found)
    # healthy prices are a prefix: the largest healthy x, below x_high

    def unhealthy(x: int) -> bool:
        return not curve.healthy(x)

    first_bad = _first_right(now if healthy_now else x_low, x_high,
                             None if seed is None else seed + 1, unhealthy, gallop)
    return (None, None) if first_bad is None else (Direction.UP, first_bad - 1)
