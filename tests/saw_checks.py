"""Checks of a HealthCurve's answer and sawn-boundary certificate by its rule alone, unit by
unit (tests/unit/test_axis_saw.py for Aave v3, test_aave_v2_saw.py for v2)."""

from __future__ import annotations

from typing import Any

from scanner.domain import Direction
from scanner.pipeline import liquidation


def checked_price(curve: Any) -> tuple[int, int] | None:
    """(the price, the step toward today: +1 for a falling price's) of a position healthy
    today that has one, checked to be a crossing; else None."""
    if not curve.healthy(curve.price_now):
        return None
    direction, x = liquidation.find_boundary(curve)
    if x is None:
        return None
    step = 1 if direction is Direction.DOWN else -1
    assert curve.healthy(x) and not curve.healthy(x - step)
    return x, step


def assert_no_crossing_nearer_today(curve: Any, window: int) -> None:
    """Where the position is healthy today and has a price: `window` units on today's side of
    it are healthy (the certificate's own claims are not trusted here)."""
    found = checked_price(curve)
    if found is None:
        return
    x, step = found
    now = curve.price_now
    nearer = [x + step * n for n in range(1, window) if (x + step * n - now) * step <= 0]
    assert all(curve.healthy(p) for p in nearer if p > 0)


def assert_certified_onward(curve: Any, at: int, units: int) -> None:
    """Where the certificate proves `at` (either way), `units` units onward are healthy."""
    for down in (True, False):
        margin = curve.saw_margin(at, down)
        if margin is None or margin < 0:
            continue
        step = 1 if down else -1
        onward = [at + step * n for n in range(units) if at + step * n > 0]
        assert all(curve.healthy(p) for p in onward)


def assert_interval_proof_sound(curve: Any, low: int, high: int) -> None:
    """Where the interval test proves [low, high] healthy, every unit of it is."""
    if low > 0 and curve.saw_healthy_between(low, high):
        assert all(curve.healthy(p) for p in range(low, high + 1))
