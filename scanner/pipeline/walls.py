"""Liquidation walls: one position, or a tight few, large enough to matter on their own.

Outside every band, the window of width `wall_width_bps` (in log distance) holding the most
collateral is a wall when it holds at least `min_collateral_8dec` (bands.py: `wall_share_bps`
of the axis's at-risk collateral) and `median_factor` x the median of the direction's other
positions (in a small market each position is a few % of the whole); its members are then
set aside and the search repeats.
A wall is cut to the positions that carry it: members below 1/`WALL_MEMBER_DIVISOR` of the
wall's largest position are left out, so dust beside a whale never widens it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from scanner.domain import Band
from scanner.pipeline.band_points import BPS, Point

WALL_MEMBER_DIVISOR = 20


def _heaviest_window(points: list[Point], width: float) -> list[Point]:
    """Contiguous points within `width` of distance holding the most collateral; O(n)."""
    best: tuple[int, int, int] = (0, 0, 0)  # (collateral, start, end exclusive)
    start, held = 0, 0
    for end, p in enumerate(points):
        held += p.collateral_usd_8dec
        while p.distance - points[start].distance > width:
            held -= points[start].collateral_usd_8dec
            start += 1
        if held > best[0]:
            best = (held, start, end + 1)
    return points[best[1] : best[2]]


def _carriers(window: list[Point]) -> list[Point]:
    largest = max(p.collateral_usd_8dec for p in window)
    keep = [i for i, p in enumerate(window)
            if p.collateral_usd_8dec * WALL_MEMBER_DIVISOR >= largest]  # fmt: skip
    return window[keep[0] : keep[-1] + 1]


def _stands_out(held_8dec: int, wall: list[Point], points: Sequence[Point], factor: int) -> bool:
    """At least `factor` x the median of the direction's other positions (alone: yes)."""
    taken = {id(p) for p in wall}
    others = sorted(p.collateral_usd_8dec for p in points if id(p) not in taken)
    return not others or held_8dec >= factor * others[len(others) // 2]


def find_walls(
    points: Sequence[Point], bands: Sequence[Band], min_collateral_8dec: int, wall_width_bps: int,
    median_factor: int = 1,
) -> list[list[Point]]:
    """Walls of at least `min_collateral_8dec` and `median_factor` x the median of the other
    positions, among `points` (sorted by distance) outside `bands`, heaviest first."""
    spans = [(b.low_8dec, b.high_8dec) for b in bands]
    rest = [p for p in points if not any(lo <= p.price_8dec <= hi for lo, hi in spans)]
    width = math.log(1 + wall_width_bps / BPS)
    walls: list[list[Point]] = []
    while rest:
        window = _heaviest_window(rest, width)
        held = sum(p.collateral_usd_8dec for p in window)
        if not window or held < min_collateral_8dec:
            break
        wall = _carriers(window)
        if not _stands_out(sum(p.collateral_usd_8dec for p in wall), wall, points,
                           median_factor):
            break
        walls.append(wall)
        taken = {id(p) for p in wall}
        rest = [p for p in rest if id(p) not in taken]
    return walls
