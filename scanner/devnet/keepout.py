"""Background positions kept clear of the planted clusters, so a planted band has a known answer.

With planted clusters, every background generator asks `Keepout.clear` about each position it
plans: when the position's liquidation level on a cluster's axis falls inside the cluster's
window widened by `MARGIN`, the position's level (its health factor, collateral ratio or LTV
draw) is drawn again from a generator of its own, seeded from (seed, generator, index, attempt)
-- never from the generator's main stream, so every other position stays as it was, and sizes
and counts do not change. Without clusters there is no Keepout and no generator calls it:
those populations are exactly what they were.

A level is computed from the position's `Exposure` at the final prices: the axis's members
(e.g. WETH, wstETH, rETH on ETH) scaled together by f, the rest fixed; the level is the f at
which the LT-weighted collateral equals the debt, as the scanner maps a position onto an axis.
Interest and rounding move real levels a little from these planned ones: `MARGIN` covers it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from scanner.devnet.aave_spec import MarketSpec, load_market_spec
from scanner.errors import ConfigError

# 2% each side of a planted window: (1) wider than the drift between a planned level and the
# level the chain reports (up to ~1% of interest over the devnet's 30-50 seeded days, plus
# rounding), so no background position ends up on a planted edge; (2) wide enough that the
# band's edge search (scanner.pipeline.bands: 25 bps bins, +/- 2 bins of smoothing, a run cut
# where the mass per unit of distance falls to the local background) sees the empty gap and
# then the background's density beyond it, so an edge is the outermost planted position; and
# (3) narrow (under one 200 bps background bin each side) so the background density measured
# around the band barely changes.
MARGIN = 0.02
# How much a generator's levels may rise between planning and the scan (see Keepout.blocks),
# measured on the demo's devnet (scan level / planned level, the largest seen) with room:
# Aave v3.x, Comet and Morpho accrue little interest after opening (< 0.1%); Maker's stale
# rates are dripped (+0.47%); Aave v2 accrues 51 days (+3.5%); Liquity v1 troves take the
# redistributions (+1%; troves under the CCR sit at the recovery-mode level, above the
# window); Liquity v2 troves take 40+ days at up to 25% a year, upfront fees and
# redistributions (+5%).
RISE_SMALL = 0.005
RISE_MAKER = 0.01
RISE_AAVE2 = 0.05
RISE_LIQUITY1 = 0.02
RISE_LIQUITY2 = 0.08
MAX_ATTEMPTS = 1_000  # a level drawn from a range wholly inside a window would never clear

T = TypeVar("T")


class Planted(Protocol):
    """A planted cluster (population.ClusterSpec): liquidation prices of `asset` in
    [low_usd, high_usd]."""

    @property
    def asset(self) -> str: ...
    @property
    def low_usd(self) -> float: ...
    @property
    def high_usd(self) -> float: ...
    @property
    def clear_margin(self) -> bool: ...


@dataclass(frozen=True)
class Exposure:
    """A position in USD at the final prices: collateral (symbol, USD, liquidation threshold
    as a fraction: Aave LT, Comet liquidate factor, 1/mat, lltv) and debt (symbol, USD)."""

    collateral: tuple[tuple[str, float, float], ...]
    debt: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Window:
    axis: str
    low_fraction: float  # of the axis's current price, margin included
    high_fraction: float


def axis_level_fraction(exposure: Exposure, members: Sequence[str]) -> float | None:
    """f such that, with the axis members' prices times f, weighted collateral == debt; None
    when no positive f exists (the position does not move with the axis, or never fails)."""
    on_c = sum(usd * lt for s, usd, lt in exposure.collateral if s in members)
    off_c = sum(usd * lt for s, usd, lt in exposure.collateral if s not in members)
    on_d = sum(usd for s, usd in exposure.debt if s in members)
    off_d = sum(usd for s, usd in exposure.debt if s not in members)
    if abs(on_c - on_d) < 1e-9:
        return None
    fraction = (off_d - off_c) / (on_c - on_d)
    return fraction if fraction > 0 else None


@dataclass(frozen=True)
class Keepout:
    seed: int
    windows: tuple[Window, ...]
    members: dict[str, tuple[str, ...]]  # axis -> its member symbols

    def blocks(self, exposure: Exposure, rise: float = 0.0) -> bool:
        """Whether the planned level lies in a window, or up to `rise` (a fraction) below
        one: the level a position reaches by the scan, once the seeding's interest, fees and
        redistributions have grown its debt (they only ever raise a long's level)."""
        for w in self.windows:
            level = axis_level_fraction(exposure, self.members[w.axis])
            if level is not None and w.low_fraction / (1 + rise) <= level <= w.high_fraction:
                return True
        return False

    def clear(self, plan: T, key: str, exposure: Callable[[T], Exposure],
              redraw: Callable[[random.Random], T], rise: float = 0.0) -> T:
        """`plan`, or the first redraw (from its own seeded generator) clear of every window
        (`rise`: see `blocks`)."""
        attempt = 0
        while self.blocks(exposure(plan), rise):
            attempt += 1
            if attempt > MAX_ATTEMPTS:
                raise ConfigError(f"background position {key} cannot be kept clear of the "
                                  "planted clusters: widen their distance from it")
            plan = redraw(random.Random(f"keepout/{self.seed}/{key}/{attempt}"))
        return plan


def keepout_for(seed: int, clusters: Sequence[Planted],
                spec: MarketSpec | None = None) -> Keepout | None:
    """The windows of the `clusters` (ClusterSpec) planted with a clear margin, or None."""
    clusters = [c for c in clusters if c.clear_margin]
    if not clusters:
        return None
    spec = spec or load_market_spec()
    windows = []
    for cluster in clusters:
        reserve = spec.reserve(cluster.asset)
        price_usd = reserve.price_8dec / 10**8
        windows.append(Window(reserve.axis, cluster.low_usd * (1 - MARGIN) / price_usd,
                              cluster.high_usd * (1 + MARGIN) / price_usd))
    members = {w.axis: spec.axis_members(w.axis) for w in windows}
    return Keepout(seed, tuple(windows), members)
