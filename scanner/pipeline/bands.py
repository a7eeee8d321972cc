"""Liquidation bands and walls: where a price move unlocks unusually much collateral.

Per axis and direction, on the AT_RISK positions (distance d = |ln(price / now)|):

1. Mass. Each position weighs its collateral (USD) in units of the median position, capped
   at `mass_cap`: dust weighs ~0 and can never move an edge, while one whale cannot make a
   band on its own (whales are reported as walls, below).
2. Background. Mass per `background_bin_bps` bin; the local background density at a bin is
   the median over the bins within +/- `background_bins` that lie inside the population's
   span -- a median, so neither whales nor the cluster being measured raise it. It never
   falls below the floor: the direction's whole mass spread evenly over a move of
   `floor_span_bps` (90%). So a concentration that is all there is still stands out
   against the floor: a cluster holding all at-risk collateral in 3% is ~75x the floor.
3. Dense regions. Fine bins (`bin_bps`), mass smoothed over +/- `smooth_bins`; a bin is
   dense at `density_factor` x the local background; dense bins at most `merge_gap_bins`
   apart form a region.
4. Edges. Each region plus flanks is cut to the run of positions maximising the excess mass
   Σ mass - penalty x width (Müller & Sawitzki's mode-interval estimate). The penalty is
   the likelihood-ratio boundary between the background density beside the region (bins
   inside the region left out) and the region's own (`_penalty`): a position joins only if
   it brings more mass than that over the gap it adds, so an edge is where the collateral
   density falls back to the background, and dust never moves it.
5. Filters. A band needs `min_positions`, `min_share_bps` of the direction's at-risk
   collateral, and an excess over the expected background of at least `min_z` standard
   deviations of its own mass (compound Poisson: sqrt(Σ mass²)) -- the test that keeps
   chance clumps of a heavy-tailed background out. Overlapping runs merge.
6. Walls (scanner.pipeline.walls): outside the bands, single positions or tight groups
   within `wall_width_bps` holding at least `wall_share_bps` of the axis's at-risk
   collateral (both directions) and `wall_median_factor` x the direction's median position.
   Walls fill the slots the bands leave, at most `max_walls` of them.

Bands and walls are ranked together by collateral across both directions (ties: direction,
low price, top accounts); top_accounts: largest collateral first, ties by account. low/high are
the exact liquidation prices of the outermost positions. Measured numbers: README,
"How bands are found" (bench/bench_bands.py).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import replace

from scanner.domain import Band, Direction, PositionResult, PositionStatus
from scanner.errors import UsageError
from scanner.pipeline.band_params import BandParams
from scanner.pipeline.band_points import BPS, Point, band_of, points_of
from scanner.pipeline.walls import find_walls


class _Background:
    """Robust local background mass density (per unit of d) along one direction."""

    def __init__(self, points: list[Point], params: BandParams) -> None:
        self.width = math.log(1 + params.background_bin_bps / BPS)
        self.reach = params.background_bins
        self.bins: dict[int, float] = {}
        for p in points:
            b = int(p.distance / self.width)
            self.bins[b] = self.bins.get(b, 0.0) + p.mass
        self.first, self.last = min(self.bins), max(self.bins)
        floor_span = -math.log(1 - params.floor_span_bps / BPS)
        self.floor = sum(p.mass for p in points) / floor_span
        self._plain: dict[int, float] = {}  # coarse bin -> density (no span left out)

    def _window(self, b: int) -> tuple[int, int]:
        """Bins around `b`. Near the ends of the population the window slides inward, so
        the empty bins beyond its ends do not count; a population narrower than the window
        (e.g. one cluster and nothing else) is measured over the whole window."""
        lo, hi = b - self.reach, b + self.reach
        if self.last - self.first < 2 * self.reach:
            return lo, hi
        shift = max(self.first - lo, 0) - max(hi - self.last, 0)
        return lo + shift, hi + shift

    def density(self, distance: float, beside: tuple[float, float] | None = None) -> float:
        """At `distance`; with `beside` = (low, high) distances, from the bins outside that
        span only, so a wide band does not raise its own background."""
        at = int(distance / self.width)
        if beside is None:  # asked for every fine bin: 8 share one coarse bin
            found = self._plain.get(at)
            if found is None:
                found = self._plain[at] = self._density(at, range(0))
            return found
        return self._density(at, range(
            int(beside[0] / self.width), int(beside[1] / self.width) + 1))

    def _density(self, at: int, skip: range) -> float:
        lo, hi = self._window(at)
        masses = [self.bins.get(i, 0.0) for i in range(lo, hi + 1) if i not in skip] or [0.0]
        return max(statistics.median(masses) / self.width, self.floor)


def _dense_regions(
    points: list[Point], background: _Background, params: BandParams
) -> list[tuple[int, int]]:
    """Runs of fine bins whose smoothed mass is dense against the local background."""
    bin_width = math.log(1 + params.bin_bps / BPS)
    weights: dict[int, float] = {}
    for p in points:
        b = int(p.distance / bin_width)
        weights[b] = weights.get(b, 0.0) + p.mass
    first, last = min(weights), max(weights)
    h = params.smooth_bins
    dense = [
        b
        for b in range(first - h, last + h + 1)
        if sum(weights.get(b + i, 0.0) for i in range(-h, h + 1)) / (2 * h + 1)
        >= params.density_factor * background.density((b + 0.5) * bin_width) * bin_width
    ]
    runs: list[tuple[int, int]] = []
    for b in dense:
        if runs and b - runs[-1][1] <= params.merge_gap_bins + 1:
            runs[-1] = (runs[-1][0], b)
        else:
            runs.append((b, b))
    return runs


def _local_run(
    points: list[Point], region: tuple[int, int], background: _Background, params: BandParams
) -> list[Point]:
    """Cut one dense region (plus flanks) to its maximal excess-mass run."""
    bin_width = math.log(1 + params.bin_bps / BPS)
    flank = max(region[1] - region[0] + 1, params.flank_bins) * bin_width
    lo_d, hi_d = region[0] * bin_width, (region[1] + 1) * bin_width
    near = [p for p in points if lo_d - flank <= p.distance < hi_d + flank]
    inside_at = [i for i, p in enumerate(near) if lo_d <= p.distance < hi_d]
    if not inside_at:
        return []
    beside = background.density((lo_d + hi_d) / 2, (lo_d, hi_d))
    inside = sum(near[i].mass for i in inside_at) / (hi_d - lo_d)
    return _max_excess_run(near, _penalty(inside, beside, params), inside_at[0], inside_at[-1])


def _penalty(inside: float, beside: float, params: BandParams) -> float:
    """Mass per unit of distance a position must beat to join a band.

    Between a background of density `beside` and a band `c` times denser, the
    likelihood-ratio boundary of two Poisson rates is beside x (c - 1) / ln c: about 2.2x
    background for c = 4 (a 3x band on its background). c is capped at `edge_contrast_cap`:
    against a near-empty background (a band that is all there is) the boundary then stays
    near the background instead of climbing with the band's own density and cutting off its
    sparser outermost positions. Never below `edge_factor` x background."""
    contrast = min(inside / beside, params.edge_contrast_cap)
    if contrast <= 1 + 1e-9:
        return params.edge_factor * beside
    return beside * max((contrast - 1) / math.log(contrast), params.edge_factor)


def _max_excess_run(
    points: list[Point], penalty_per_unit: float, first_inside: int, last_inside: int
) -> list[Point]:
    """Contiguous run maximising Σ mass - penalty x (distance span); O(n).

    The run must overlap points[first_inside..last_inside] (the dense region): a wide
    region's flanks may hold a denser spike elsewhere, which belongs to its own region."""
    best = (-math.inf, first_inside, first_inside)
    start, mass_before_start, mass_before = 0, 0.0, 0.0
    for j, p in enumerate(points):
        # value(i, j) = M_j - M_{i-1} - penalty * (d_j - d_i): keep the start maximising
        # -M_{i-1} + penalty * d_i, among starts at or before the region's last point
        here = -mass_before + penalty_per_unit * p.distance
        if j <= last_inside and here > -mass_before_start + penalty_per_unit * points[
                start].distance:
            start, mass_before_start = j, mass_before
        mass_before += p.mass
        span = p.distance - points[start].distance
        value = mass_before - mass_before_start - penalty_per_unit * span
        if j >= first_inside and value > best[0]:
            best = (value, start, j)
    return points[best[1] : best[2] + 1]


def _significant(
    run: list[Point], background: _Background, total_8dec: int, params: BandParams
) -> bool:
    """Mass above the expected background by `min_z` x the run's compound-Poisson deviation
    (sqrt Σ mass²), or -- however few positions, e.g. when it is all there is -- at least
    `concentration_share_bps` of the at-risk collateral without its largest position."""
    span = max(run[-1].distance - run[0].distance, math.log(1 + params.bin_bps / BPS))
    mid = (run[0].distance + run[-1].distance) / 2
    expected = background.density(mid, (run[0].distance, run[-1].distance)) * span
    excess = sum(p.mass for p in run) - expected
    if excess >= params.min_z * math.sqrt(sum(p.mass**2 for p in run)):
        return True
    collateral = [p.collateral_usd_8dec for p in run]
    return (sum(collateral) - max(collateral)) * BPS >= params.concentration_share_bps * total_8dec


def _merge_overlapping(runs: list[list[Point]]) -> list[list[Point]]:
    # Neighbouring regions can refine to overlapping runs: keep them as one band, so no
    # position is ever counted in two bands.
    merged: list[list[Point]] = []
    for run in sorted((r for r in runs if r), key=lambda r: r[0].distance):
        if merged and run[0].distance <= merged[-1][-1].distance:
            union = {id(p): p for p in merged[-1] + run}.values()
            merged[-1] = sorted(union, key=lambda p: (p.distance, p.price_8dec, p.account))
        else:
            merged.append(run)
    return merged


def _direction_bands(
    results: Sequence[PositionResult],
    axis: str,
    direction: Direction,
    price_now_8dec: int,
    wall_min_8dec: int,
    params: BandParams,
) -> list[Band]:
    points = points_of(results, axis, direction, price_now_8dec, params.mass_cap)
    if not points:
        return []
    total_8dec = sum(p.collateral_usd_8dec for p in points)
    background = _Background(points, params)
    regions = _dense_regions(points, background, params)
    runs = _merge_overlapping([_local_run(points, r, background, params) for r in regions])
    bands = []
    for run in runs:
        band = band_of(run, axis, direction, price_now_8dec, total_8dec)
        if (band.share_of_at_risk_bps >= params.min_share_bps
                and band.positions >= params.min_positions
                and _significant(run, background, total_8dec, params)):  # fmt: skip
            bands.append(band)
    # In a small market every position is a few % of the whole: a wall must also stand out
    # against the typical position, or all of them would be walls.
    walls = find_walls(points, bands, wall_min_8dec, params.wall_width_bps,
                       params.wall_median_factor)
    return bands + [band_of(w, axis, direction, price_now_8dec, total_8dec, "wall")
                    for w in walls]  # fmt: skip


def detect_bands(
    results: Sequence[PositionResult],
    axis: str,
    price_now_8dec: int,
    *,
    max_bands: int = 10,
    params: BandParams | None = None,
) -> list[Band]:
    """Bands and walls of liquidation prices on `axis`, rank 1 = most collateral."""
    if price_now_8dec <= 0 or max_bands < 0:
        raise UsageError("band detection needs a positive current price and max_bands >= 0")
    params = params or BandParams()
    # A wall matters against the whole axis: a few $100k of shorts beside $60M of longs
    # are not walls just because shorts are few.
    axis_total_8dec = sum(r.collateral_usd_8dec for r in results if r.axis == axis
                          and r.status is PositionStatus.AT_RISK and r.direction is not None
                          and r.liquidation_price_8dec)  # fmt: skip
    wall_min_8dec = max(1, -(-axis_total_8dec * params.wall_share_bps // BPS))
    found = [
        band
        for direction in (Direction.DOWN, Direction.UP)
        for band in _direction_bands(
            results, axis, direction, price_now_8dec, wall_min_8dec, params
        )
    ]
    def order(b: Band) -> tuple[int, str, int, tuple[str, ...]]:
        return (-b.collateral_usd_8dec, b.direction.value, b.low_8dec, b.top_accounts)

    # Walls never push a band out of the kept slots, and take at most `max_walls` of them.
    bands = sorted((b for b in found if b.kind == "band"), key=order)[:max_bands]
    walls = sorted((b for b in found if b.kind == "wall"), key=order)
    kept = sorted(bands + walls[:min(params.max_walls, max_bands - len(bands))], key=order)
    return [replace(band, rank=rank) for rank, band in enumerate(kept, start=1)]
