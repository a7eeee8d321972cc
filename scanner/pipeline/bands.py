"""Dense bands of liquidation prices: where a price move unlocks unusually much collateral.

Method, per axis and direction, on the AT_RISK positions (distance = |ln(price / now)|):

1. Each position gets a detection mass: its collateral in units of the median position,
   clamped to [1, `mass_cap`]. Pure collateral would make every whale of a heavy-tailed
   population a "cluster"; pure counts would ignore that a cluster is usually big money.
2. Fine log bins (`bin_bps`, default 0.25%). Baseline = mean mass per bin over the
   population's span (at least `min_span_bps`). The mean, not a median: with hundreds of
   positions over ~800 fine bins most bins are empty and any median is 0.
3. A bin is dense when its mass smoothed over +/- `smooth_bins` neighbours is at least
   `density_factor` x baseline; dense bins at most `merge_gap_bins` apart form a region.
4. Edges: smoothing bleeds a region past its cluster, so each region (plus flanks) is cut
   to the run of positions maximising the excess mass  Σ mass - penalty x log-width, with
   penalty = max(`edge_factor` x mass density in the flanks beside the region,
   `edge_fraction` x density inside it). A neighbour joins only if it is denser than the
   local background, so the edges land on the cluster's outermost positions. (Excess mass:
   Müller & Sawitzki's mode-interval estimate, here against a local baseline.)
5. Overlapping runs merge; bands below `min_share_bps` of the direction's at-risk collateral
   or with fewer than `min_positions` positions are dropped; the rest are ranked by
   collateral across both directions (ties: direction, low price, top accounts).
   top_accounts: largest collateral first, ties by account.

low/high are the exact liquidation prices of the band's outermost positions. Measured on
synthetic populations (400 background positions 20-90% below the price, Pareto sizes, plus
150 planted positions uniform in a 7% interval): both edges within 0.5% in ~95% of seeds;
with only 60 planted positions (~1.5x the local background count) in ~60-85%.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from scanner.domain import Address, Band, Direction, PositionResult, PositionStatus, shares_of
from scanner.errors import UsageError

BPS = 10_000
TOP_ACCOUNTS = 5


@dataclass(frozen=True)
class BandParams:
    bin_bps: int = 25
    smooth_bins: int = 2
    density_factor: float = 4.0
    merge_gap_bins: int = 2
    edge_factor: float = 2.5
    min_share_bps: int = 50
    min_positions: int = 3  # one account alone is a whale, not a band of shared levels
    min_span_bps: int = 1_000
    flank_bins: int = 8
    mass_cap: float = 4.0
    edge_fraction: float = 0.3


@dataclass(frozen=True)
class _Point:
    distance: float  # |ln(price / now)|: grows away from the current price
    mass: float  # detection weight: collateral in median positions, clamped to [1, mass_cap]
    price_8dec: int
    account: Address
    result: PositionResult


def _points(
    results: Sequence[PositionResult],
    axis: str,
    direction: Direction,
    price_now_8dec: int,
    params: BandParams,
) -> list[_Point]:
    chosen = [
        (r, r.liquidation_price_8dec)
        for r in results
        if r.axis == axis and r.status is PositionStatus.AT_RISK and r.direction is direction
        and r.liquidation_price_8dec is not None and r.liquidation_price_8dec > 0
    ]  # fmt: skip
    if not chosen:
        return []
    sizes = sorted(r.collateral_usd_8dec for r, _ in chosen)
    median = max(sizes[len(sizes) // 2], 1)
    points = [
        _Point(abs(math.log(price / price_now_8dec)),
               min(params.mass_cap, max(1.0, r.collateral_usd_8dec / median)),
               price, r.account, r)
        for r, price in chosen
    ]  # fmt: skip
    return sorted(points, key=lambda p: (p.distance, p.price_8dec, p.account))


def _dense_regions(
    points: list[_Point], bin_width: float, params: BandParams
) -> tuple[list[tuple[int, int]], float]:
    """Candidate regions (runs of smoothed-dense bins) and the baseline collateral per bin."""
    weights: dict[int, float] = {}
    for p in points:
        b = int(p.distance / bin_width)
        # Position counts, not collateral: heavy-tailed sizes would make every whale "dense"
        # and hide a cluster of many mid-sized positions.
        weights[b] = weights.get(b, 0) + p.mass
    first, last = min(weights), max(weights)
    min_span = math.log(1 + params.min_span_bps / BPS) / bin_width
    baseline = sum(weights.values()) / max(last - first + 1, min_span)
    h = params.smooth_bins
    dense = [
        b
        for b in range(first - h, last + h + 1)
        if sum(weights.get(b + i, 0) for i in range(-h, h + 1)) / (2 * h + 1)
        >= params.density_factor * baseline
    ]
    runs: list[tuple[int, int]] = []
    for b in dense:
        if runs and b - runs[-1][1] <= params.merge_gap_bins + 1:
            runs[-1] = (runs[-1][0], b)
        else:
            runs.append((b, b))
    return runs, baseline


def _local_run(
    points: list[_Point], lo_bin: int, hi_bin: int, bin_width: float, params: BandParams
) -> list[_Point]:
    """Refine one dense region against the background density right beside it."""
    flank = max(hi_bin - lo_bin + 1, params.flank_bins)
    lo_d, hi_d = lo_bin * bin_width, (hi_bin + 1) * bin_width
    near = [p for p in points if lo_d - flank * bin_width <= p.distance < hi_d + flank * bin_width]
    outside = sum(p.mass for p in near if not lo_d <= p.distance < hi_d)
    flank_width = 2 * flank * bin_width if lo_d - flank * bin_width > 0 else flank * bin_width
    # Mass density beside the region (never below one position per flank, so an empty
    # neighbourhood still charges for width) and inside it: an edge is where the density
    # falls to the background's level or to a fraction of the region's own.
    beside = max(outside, 1) / flank_width
    inside = (sum(p.mass for p in near) - outside) / (hi_d - lo_d)
    penalty = max(params.edge_factor * beside, params.edge_fraction * inside)
    inside_at = [i for i, p in enumerate(near) if lo_d <= p.distance < hi_d]
    if not inside_at:
        return []
    return _max_excess_run(near, penalty, inside_at[0], inside_at[-1])


def _max_excess_run(
    points: list[_Point], penalty_per_unit: float, first_inside: int, last_inside: int
) -> list[_Point]:
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


def _band(
    run: list[_Point], axis: str, direction: Direction, price_now_8dec: int, total_8dec: int
) -> Band:
    prices = [p.price_8dec for p in run]
    low, high = min(prices), max(prices)
    collateral = sum(p.result.collateral_usd_8dec for p in run)
    by_size = sorted(run, key=lambda p: (-p.result.collateral_usd_8dec, p.account))
    return Band(
        axis=axis, direction=direction, rank=0, low_8dec=low, high_8dec=high,
        positions=len(run), collateral_usd_8dec=collateral,
        debt_usd_8dec=sum(p.result.debt_usd_8dec for p in run),
        seizable_usd_8dec=sum(p.result.seizable_usd_8dec for p in run),
        share_of_at_risk_bps=collateral * BPS // total_8dec if total_8dec else 0,
        distance_low_bps=(low - price_now_8dec) * BPS // price_now_8dec,
        distance_high_bps=(high - price_now_8dec) * BPS // price_now_8dec,
        top_accounts=tuple(p.account for p in by_size[:TOP_ACCOUNTS]),
        shares=shares_of([p.result for p in run]),
    )  # fmt: skip


def _direction_bands(
    results: Sequence[PositionResult],
    axis: str,
    direction: Direction,
    price_now_8dec: int,
    params: BandParams,
) -> list[Band]:
    points = _points(results, axis, direction, price_now_8dec, params)
    if not points:
        return []
    total_8dec = sum(p.result.collateral_usd_8dec for p in points)
    bin_width = math.log(1 + params.bin_bps / BPS)
    regions, _ = _dense_regions(points, bin_width, params)
    refined = [_local_run(points, lo_bin, hi_bin, bin_width, params) for lo_bin, hi_bin in regions]
    # Neighbouring regions can refine to overlapping runs: keep them as one band, so no
    # position is ever counted in two bands.
    runs: list[list[_Point]] = []
    for run in sorted((r for r in refined if r), key=lambda r: r[0].distance):
        if runs and run[0].distance <= runs[-1][-1].distance:
            merged = {id(p): p for p in runs[-1] + run}.values()
            runs[-1] = sorted(merged, key=lambda p: (p.distance, p.price_8dec, p.account))
        else:
            runs.append(run)
    bands = []
    for run in runs:
        band = _band(run, axis, direction, price_now_8dec, total_8dec)
        if (band.share_of_at_risk_bps >= params.min_share_bps
                and band.positions >= params.min_positions):
            bands.append(band)
    return bands


def detect_bands(
    results: Sequence[PositionResult],
    axis: str,
    price_now_8dec: int,
    *,
    max_bands: int = 10,
    params: BandParams | None = None,
) -> list[Band]:
    """Concentrated liquidation-price intervals on `axis`, rank 1 = most collateral."""
    if price_now_8dec <= 0 or max_bands < 0:
        raise UsageError("band detection needs a positive current price and max_bands >= 0")
    params = params or BandParams()
    found = [
        band
        for direction in (Direction.DOWN, Direction.UP)
        for band in _direction_bands(results, axis, direction, price_now_8dec, params)
    ]
    found.sort(
        key=lambda b: (-b.collateral_usd_8dec, b.direction.value, b.low_8dec, b.top_accounts)
    )
    return [replace(band, rank=rank) for rank, band in enumerate(found[:max_bands], start=1)]
