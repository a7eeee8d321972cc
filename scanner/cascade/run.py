"""One cascade, or the cascade curve, from a snapshot's reads and a depth model.

`include_now` defaults to True here, as on chain: every position the protocols let go is
liquidated, those liquidatable before the shock included (the executed-for-real test plays
exactly that). `liqscan cascade` and the demo leave them out unless --include-now (the
engine's `NowSummary` reports them apart)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scanner.cascade.depth import DepthModel
from scanner.cascade.engine import CascadeResult, run_cascade
from scanner.cascade.exposures import AxisBook
from scanner.cascade.shock import CURVE_STEPS_PCT, shocked_price_8dec
from scanner.domain import Band, Direction


@dataclass(frozen=True)
class CurvePoint:
    shock_bps: int
    result: CascadeResult


def cascade_to(book: AxisBook, depth: DepthModel, shock_price_8dec: int,
               bands: Sequence[Band], include_now: bool = True) -> CascadeResult:
    return run_cascade(book.axis.name, book.axis.reference_price_8dec, shock_price_8dec,
                       book.exposures, depth, book.member_usd_now_8dec, bands, include_now,
                       book.axis.reference)


def cascade_curve(book: AxisBook, depth: DepthModel, bands: Sequence[Band],
                  steps_pct: Sequence[int] = CURVE_STEPS_PCT, include_now: bool = True
                  ) -> list[CurvePoint]:
    """Falls of 1% .. 40% (longs), then rises of 1% .. 40% when the axis has shorts."""
    now = book.axis.reference_price_8dec
    signs = [-1] + ([1] if any(e.direction is Direction.UP for e in book.exposures) else [])
    points = []
    for sign in signs:
        for pct in steps_pct:
            bps = sign * pct * 100
            points.append(CurvePoint(bps, cascade_to(book, depth, shocked_price_8dec(now, bps),
                                                     bands, include_now)))
    return points
