"""The points band detection works on, and the Band a run of them becomes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scanner.domain import (
    Address,
    Band,
    Direction,
    PositionResult,
    PositionStatus,
    shares_of,
)

BPS = 10_000
TOP_ACCOUNTS = 5


@dataclass(frozen=True)
class Point:
    distance: float  # |ln(price / now)|: grows away from the current price
    mass: float  # detection weight: collateral / median position, capped (see bands.py)
    price_8dec: int
    account: Address
    result: PositionResult

    @property
    def collateral_usd_8dec(self) -> int:
        return self.result.collateral_usd_8dec


def points_of(
    results: Sequence[PositionResult],
    axis: str,
    direction: Direction,
    price_now_8dec: int,
    mass_cap: float,
) -> list[Point]:
    """AT_RISK positions of one axis and direction, nearest to the price first."""
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
        Point(abs(math.log(price / price_now_8dec)),
              min(mass_cap, r.collateral_usd_8dec / median), price, r.account, r)
        for r, price in chosen
    ]  # fmt: skip
    return sorted(points, key=lambda p: (p.distance, p.price_8dec, p.account))


def band_of(
    run: Sequence[Point],
    axis: str,
    direction: Direction,
    price_now_8dec: int,
    total_8dec: int,
    kind: str = "band",
) -> Band:
    """The Band of a run of points (rank 0 until ranked)."""
    prices = [p.price_8dec for p in run]
    low, high = min(prices), max(prices)
    collateral = sum(p.collateral_usd_8dec for p in run)
    by_size = sorted(run, key=lambda p: (-p.collateral_usd_8dec, p.account))
    return Band(
        axis=axis, direction=direction, rank=0, low_8dec=low, high_8dec=high,
        positions=len(run), collateral_usd_8dec=collateral,
        debt_usd_8dec=sum(p.result.debt_usd_8dec for p in run),
        seizable_usd_8dec=sum(p.result.seizable_usd_8dec for p in run),
        share_of_at_risk_bps=collateral * BPS // total_8dec if total_8dec else 0,
        distance_low_bps=(low - price_now_8dec) * BPS // price_now_8dec,
        distance_high_bps=(high - price_now_8dec) * BPS // price_now_8dec,
        top_accounts=tuple(p.account for p in by_size[:TOP_ACCOUNTS]), kind=kind,
        shares=shares_of([p.result for p in run]),
    )  # fmt: skip
