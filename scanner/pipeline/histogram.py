"""Liquidation-price histogram of one axis: how much collateral each price level unlocks.

Bins grow away from the current price, one series per direction:

* DOWN (bin k, log mode):  edge_k = floor(now * (1 - step)^k); bin k = (edge_{k+1}, edge_k]
* UP   (bin k, log mode):  edge_k = floor(now * (1 + step)^k); bin k = [edge_k, edge_{k+1})
* linear mode: edge_k = now -/+ k * width.

Edges are exact integers (powers computed in int), so output is deterministic. Regular bins
stop once they cover `range_bps` of the price on that side; when at-risk positions lie beyond,
one last, wider bin reaches the farthest of them (DOWN: down to price 0; UP: one unit past the
highest), so every at-risk position is in a bin and the cumulative curve ends at the total.
Only AT_RISK positions are binned; the cumulative curve therefore reads "if the price
reaches this bin's far edge, this much more collateral becomes liquidatable".
A direction with no at-risk positions yields no bins.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from typing import Literal

from scanner.domain import Direction, HistogramBin, PositionResult, PositionStatus, shares_of
from scanner.errors import UsageError

BPS = 10_000


def _edges(
    price_now_8dec: int,
    direction: Direction,
    mode: Literal["log", "linear"],
    step_bps: int,
    width_8dec: int,
    range_bps: int,
) -> list[int]:
    """edge_0 = now, then edges away from it until the range (or price 0) is covered."""
    if direction is Direction.DOWN:
        limit = price_now_8dec * (BPS - range_bps) // BPS
        ratio_num = BPS - step_bps
    else:
        limit = price_now_8dec * (BPS + range_bps) // BPS
        ratio_num = BPS + step_bps
    edges = [price_now_8dec]
    k = 0
    while True:
        k += 1
        if mode == "log":
            edge = price_now_8dec * ratio_num**k // BPS**k
        elif direction is Direction.DOWN:
            edge = price_now_8dec - k * width_8dec
        else:
            edge = price_now_8dec + k * width_8dec
        edge = max(edge, 0)
        if edge == edges[-1]:
            break  # steps too small to move an integer edge further
        edges.append(edge)
        past = edge <= limit if direction is Direction.DOWN else edge >= limit
        if past or edge == 0:
            break
    return edges


def _overflow_edge(edges: list[int], direction: Direction, prices: list[int]) -> list[int]:
    """[the far edge of one last bin] when some price lies beyond `edges`, else []."""
    if direction is Direction.DOWN:
        return [0] if edges[-1] > 0 and min(prices) <= edges[-1] else []
    return [max(prices) + 1] if max(prices) >= edges[-1] else []


class _BinFinder:
    """Which bin holds a price (None: outside the covered range): bin k holds
    edges[k] <= price < edges[k + 1] going up, edges[k + 1] < price <= edges[k] going down.
    A C bisection over the edges made ascending once (going down, -edges[k] <= -price <
    -edges[k + 1]) instead of a Python loop per price."""

    def __init__(self, edges: list[int], direction: Direction) -> None:
        self.sign = 1 if direction is Direction.UP else -1
        self.ascending = edges if self.sign == 1 else [-edge for edge in edges]

    def index(self, price_8dec: int) -> int | None:
        key, ascending = self.sign * price_8dec, self.ascending
        if key < ascending[0] or key >= ascending[-1]:
            return None
        return bisect_right(ascending, key) - 1


def _direction_bins(
    axis: str, direction: Direction, edges: list[int], members: list[tuple[int, PositionResult]]
) -> list[HistogramBin]:
    count = len(edges) - 1
    positions = [0] * count
    collateral, debt, seizable = [0] * count, [0] * count, [0] * count
    in_bin: list[list[PositionResult]] = [[] for _ in range(count)]
    finder = _BinFinder(edges, direction)
    for price_8dec, result in members:
        k = finder.index(price_8dec)
        if k is None:
            continue
        in_bin[k].append(result)
        positions[k] += 1
        collateral[k] += result.collateral_usd_8dec
        debt[k] += result.debt_usd_8dec
        seizable[k] += result.seizable_usd_8dec
    bins: list[HistogramBin] = []
    cumulative = 0
    for k in range(count):
        cumulative += collateral[k]
        low, high = sorted((edges[k], edges[k + 1]))
        bins.append(HistogramBin(
            axis=axis, direction=direction, bin_index=k, low_8dec=low, high_8dec=high,
            positions=positions[k], collateral_usd_8dec=collateral[k], debt_usd_8dec=debt[k],
            seizable_usd_8dec=seizable[k], cumulative_collateral_usd_8dec=cumulative,
            shares=shares_of(in_bin[k]),
        ))  # fmt: skip
    return bins


def build_histogram(
    results: Sequence[PositionResult],
    axis: str,
    price_now_8dec: int,
    *,
    mode: Literal["log", "linear"] = "log",
    bin_bps: int = 100,
    bin_width_8dec: int | None = None,
    range_bps: int = 9000,
) -> list[HistogramBin]:
    """Bins of AT_RISK positions on `axis`: DOWN series first, then UP, each from bin 0.

    `bin_bps` is the log step; linear mode uses `bin_width_8dec` (default: bin_bps of the
    current price). `range_bps` is how far from the current price the bins reach.
    """
    if price_now_8dec <= 0 or not 0 < bin_bps < BPS or range_bps <= 0:
        raise UsageError("histogram needs price > 0, 0 < bin_bps < 10000 and range_bps > 0")
    width_8dec = bin_width_8dec or price_now_8dec * bin_bps // BPS
    if mode == "linear" and width_8dec <= 0:
        raise UsageError("linear histogram bins need a positive bin width (bin_width_8dec)")
    bins: list[HistogramBin] = []
    for direction in (Direction.DOWN, Direction.UP):
        members = [
            (r.liquidation_price_8dec, r)
            for r in results
            if r.axis == axis
            and r.status is PositionStatus.AT_RISK
            and r.direction is direction
            and r.liquidation_price_8dec is not None
        ]
        if not members:
            continue
        range_side = min(range_bps, BPS) if direction is Direction.DOWN else range_bps
        edges = _edges(price_now_8dec, direction, mode, bin_bps, width_8dec, range_side)
        edges += _overflow_edge(edges, direction, [price for price, _ in members])
        bins.extend(_direction_bins(axis, direction, edges, members))
    return bins
