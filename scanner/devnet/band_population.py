"""Synthetic liquidation levels with a known answer, to measure band detection (no chain).

A population is a heavy-tailed background plus, optionally, one planted cluster:

- background: `background` longs with liquidation prices uniform over [10%, 95%] of the price
  (-90%..-5%) and Pareto(`alpha`) collateral from $10k: a few whales hold much of the money;
- cluster: collateral `contrast` x the background's *expected* collateral in the cluster's
  window (the local background density, known in closed form here), spread over as many
  positions as the background expects there times `contrast` (same size law, so a cluster is
  denser in money and in count alike), rescaled to the exact target; prices uniform in the
  window [center, center x (1 + width)];
- dust: `dust` positions of $20-$500 just outside each edge of the cluster (up to 2% away),
  which must never move an edge.

Truth is the cluster's outermost planted prices: `Planted.low_8dec` / `high_8dec`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from scanner.domain import Direction, PositionResult, PositionStatus

USD_8DEC = 10**8
PRICE_NOW_8DEC = 2_000 * USD_8DEC
BACKGROUND_LOW, BACKGROUND_HIGH = 0.10, 0.95  # fractions of the price: -90%..-5%
SIZE_MIN_USD = 10_000.0


@dataclass(frozen=True)
class Setting:
    contrast: float  # cluster collateral / expected background collateral in its window; 0 = none
    width: float = 0.03  # cluster window as a fraction of its low price
    background: int = 2_000
    alpha: float = 1.3  # Pareto shape of the sizes: 1.3 = heavy tail, finite mean
    dust: int = 4  # dust positions beside each edge


@dataclass(frozen=True)
class Planted:
    low_8dec: int
    high_8dec: int
    positions: int
    collateral_usd_8dec: int


def _result(i: int, price_8dec: int, collateral_usd_8dec: int) -> PositionResult:
    return PositionResult(
        "synthetic", "aave-v3", f"0x{i:040x}", "ETH", PositionStatus.AT_RISK, Direction.DOWN,
        price_8dec, PRICE_NOW_8DEC, 10**18, collateral_usd_8dec, collateral_usd_8dec // 2,
        collateral_usd_8dec, collateral_usd_8dec // 2,
    )  # fmt: skip


def _size_usd(rnd: random.Random, alpha: float) -> float:
    return SIZE_MIN_USD * rnd.paretovariate(alpha)


def _background(rnd: random.Random, s: Setting) -> list[PositionResult]:
    return [
        _result(i, int(PRICE_NOW_8DEC * rnd.uniform(BACKGROUND_LOW, BACKGROUND_HIGH)),
                int(_size_usd(rnd, s.alpha) * USD_8DEC))
        for i in range(s.background)
    ]  # fmt: skip


def expected_background(
    s: Setting, low_fraction: float, high_fraction: float
) -> tuple[float, float]:
    """(positions, collateral USD) the background expects between two price fractions."""
    count = s.background * (high_fraction - low_fraction) / (BACKGROUND_HIGH - BACKGROUND_LOW)
    mean_size_usd = SIZE_MIN_USD * s.alpha / (s.alpha - 1)
    return count, count * mean_size_usd


def _cluster(rnd: random.Random, s: Setting, first_id: int) -> tuple[list[PositionResult], Planted]:
    low = rnd.uniform(0.30, 0.85)
    high = low * (1 + s.width)
    count, collateral_usd = expected_background(s, low, high)
    n = max(5, round(s.contrast * count))
    sizes = [_size_usd(rnd, s.alpha) for _ in range(n)]
    scale = s.contrast * collateral_usd / sum(sizes)
    planted = [
        _result(first_id + j, int(PRICE_NOW_8DEC * rnd.uniform(low, high)),
                int(size * scale * USD_8DEC))
        for j, size in enumerate(sizes)
    ]  # fmt: skip
    prices = [r.liquidation_price_8dec or 0 for r in planted]
    truth = Planted(min(prices), max(prices), n, sum(r.collateral_usd_8dec for r in planted))
    return planted, truth


def _dust(rnd: random.Random, s: Setting, truth: Planted, first_id: int) -> list[PositionResult]:
    dust = []
    for j in range(s.dust):
        below = int(truth.low_8dec * (1 - rnd.uniform(0.0005, 0.02)))
        above = int(truth.high_8dec * (1 + rnd.uniform(0.0005, 0.02)))
        for k, price_8dec in enumerate((below, above)):
            dust.append(_result(first_id + 2 * j + k, price_8dec,
                                int(rnd.uniform(20, 500) * USD_8DEC)))
    return dust


def generate(seed: int, s: Setting) -> tuple[list[PositionResult], Planted | None]:
    """One population and its planted cluster (None when `s.contrast` is 0)."""
    rnd = random.Random(seed)
    population = _background(rnd, s)
    if s.contrast <= 0:
        return population, None
    planted, truth = _cluster(rnd, s, 1_000_000)
    return population + planted + _dust(rnd, s, truth, 2_000_000), truth
