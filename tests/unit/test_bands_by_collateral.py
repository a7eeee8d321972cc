"""Bands weighted by collateral, walls, and the measured targets on synthetic populations.

The evaluation test runs the generator bench/bench_bands.py uses (scanner.devnet.band_population)
on fewer seeds -- and on seeds the bench does not use -- and asserts the issue's targets."""

from __future__ import annotations

import random
from dataclasses import replace

from scanner.devnet.band_population import PRICE_NOW_8DEC, Planted, Setting, generate
from scanner.domain import Band, Direction, PositionResult, PositionStatus
from scanner.pipeline.band_params import BandParams
from scanner.pipeline.bands import detect_bands

USD = 10**8
NOW = 3_000 * USD


def result(i: int, price_8dec: int, collateral_8dec: int) -> PositionResult:
    return PositionResult(
        "m", "aave-v3", f"0x{i:040x}", "ETH", PositionStatus.AT_RISK, Direction.DOWN, price_8dec,
        NOW, 2 * 10**18, collateral_8dec, collateral_8dec // 2, collateral_8dec,
        collateral_8dec // 2,
    )  # fmt: skip


def demo_cluster(rnd: random.Random, first_id: int = 0) -> list[PositionResult]:
    """Like `liqscan demo`'s planted cluster: 200 positions, $25M, $2,484-$2,556."""
    weights = [rnd.lognormvariate(0.0, 0.8) for _ in range(200)]
    return [
        result(first_id + i, int(rnd.uniform(2_484, 2_556) * USD),
               int(25_000_000 * USD * w / sum(weights)))
        for i, w in enumerate(weights)
    ]  # fmt: skip


def dust_beside(rnd: random.Random, low: int, high: int, first_id: int) -> list[PositionResult]:
    """$20-$500 positions up to 2% outside [low, high]."""
    return [
        result(first_id + i, int(edge * (1 + sign * rnd.uniform(0.0005, 0.02))),
               int(rnd.uniform(20, 500) * USD))
        for i, (edge, sign) in enumerate([(low, -1), (high, 1)] * 10)
    ]  # fmt: skip


def background(rnd: random.Random, n: int = 2_000) -> list[PositionResult]:
    return [
        result(10_000 + i, int(NOW * rnd.uniform(0.10, 0.95)),
               int(10_000 * USD * rnd.paretovariate(1.3)))
        for i in range(n)
    ]  # fmt: skip


def dense(bands: list[Band]) -> list[Band]:
    return [b for b in bands if b.kind == "band"]


def test_a_cluster_that_is_all_there_is_is_a_band_with_exact_edges() -> None:
    # Regression: `liqscan demo --aave-positions 0` reported no band -- the baseline was the
    # cluster itself.
    planted = demo_cluster(random.Random(1))
    (band,) = detect_bands(planted, "ETH", NOW)
    prices = [r.liquidation_price_8dec or 0 for r in planted]
    assert (band.kind, band.positions, band.share_of_at_risk_bps) == ("band", 200, 10_000)
    assert (band.low_8dec, band.high_8dec) == (min(prices), max(prices))


def test_dust_never_moves_an_edge() -> None:
    rnd = random.Random(2)
    planted = demo_cluster(rnd)
    prices = [r.liquidation_price_8dec or 0 for r in planted]
    noise = background(rnd)
    dust = dust_beside(rnd, min(prices), max(prices), 50_000)
    without = dense(detect_bands(noise + planted, "ETH", NOW))
    with_dust = dense(detect_bands(noise + planted + dust, "ETH", NOW))
    assert [(b.low_8dec, b.high_8dec) for b in with_dust] == [
        (b.low_8dec, b.high_8dec) for b in without]
    (alone,) = detect_bands(planted + dust, "ETH", NOW)
    assert (alone.low_8dec, alone.high_8dec) == (min(prices), max(prices))


def test_a_whale_amid_background_is_a_wall_and_dust_does_not_widen_it() -> None:
    rnd = random.Random(3)
    noise = background(rnd, 400)
    total = sum(r.collateral_usd_8dec for r in noise)
    whale = result(1, 1_700 * USD, total // 5)
    dust = [result(2 + i, (1_700 + i - 3) * USD, 100 * USD) for i in range(6)]
    walls = [b for b in detect_bands([*noise, whale, *dust], "ETH", NOW) if b.kind == "wall"]
    top = max(walls, key=lambda b: b.collateral_usd_8dec)
    assert (top.low_8dec, top.high_8dec, top.positions) == (1_700 * USD, 1_700 * USD, 1)
    assert top.top_accounts == (whale.account,)
    assert not dense(detect_bands([*noise, whale, *dust], "ETH", NOW))


def test_two_whales_close_together_are_one_wall() -> None:
    rnd = random.Random(4)
    noise = background(rnd, 400)
    share_2pct = sum(r.collateral_usd_8dec for r in noise) // 50
    pair = [result(1, 1_700 * USD, share_2pct), result(2, 1_704 * USD, share_2pct)]
    walls = [b for b in detect_bands(noise + pair, "ETH", NOW) if b.kind == "wall"]
    assert any((w.low_8dec, w.high_8dec, w.positions) == (1_700 * USD, 1_704 * USD, 2)
               for w in walls), walls  # fmt: skip
    apart = [pair[0], result(2, 1_800 * USD, share_2pct)]  # 6% apart: each below 3% alone
    walls = [b for b in detect_bands(noise + apart, "ETH", NOW) if b.kind == "wall"]
    assert not any(w.low_8dec in (1_700 * USD, 1_800 * USD) for w in walls), walls


def test_walls_are_configurable_and_never_inside_a_band() -> None:
    rnd = random.Random(5)
    planted = demo_cluster(rnd)
    big = planted[0].collateral_usd_8dec
    bands = detect_bands(planted, "ETH", NOW, params=BandParams(wall_share_bps=1))
    assert [b.kind for b in bands] == ["band"]  # its whales belong to the band
    lone = result(9, 2_000 * USD, big)
    alike = BandParams(wall_share_bps=1, wall_median_factor=1)  # a wall as large as a member
    bands = detect_bands([*planted, lone], "ETH", NOW, params=alike)
    assert sorted(b.kind for b in bands) == ["band", "wall"]
    assert [b.kind for b in detect_bands([*planted, lone], "ETH", NOW,
                                         params=BandParams(wall_share_bps=1))] == ["band"]
    assert not [b for b in detect_bands([*planted, lone], "ETH", NOW) if b.kind == "wall"]


def _found(bands: list[Band], truth: Planted) -> bool:
    return any(
        abs(b.low_8dec / truth.low_8dec - 1) <= 0.005
        and abs(b.high_8dec / truth.high_8dec - 1) <= 0.005
        for b in dense(bands)
    )


def test_targets_on_synthetic_populations() -> None:
    """Issue 12: both edges within 0.5% in >= 95% of seeds at contrast >= 3x; no band on pure
    background in >= 95% of seeds. Seeds 1000+ (the bench uses 0-199)."""
    for setting, seeds in ((Setting(contrast=3), 60), (Setting(contrast=10), 20)):
        found = 0
        for seed in range(1_000, 1_000 + seeds):
            population, truth = generate(seed, setting)
            assert truth is not None
            found += _found(detect_bands(population, "ETH", PRICE_NOW_8DEC), truth)
        assert found >= 0.95 * seeds, (setting, found)
    for setting, seeds in ((Setting(contrast=0), 40), (Setting(contrast=0, background=400), 20)):
        false = sum(bool(dense(detect_bands(generate(seed, setting)[0], "ETH", PRICE_NOW_8DEC)))
                    for seed in range(1_000, 1_000 + seeds))  # fmt: skip
        assert false <= 0.05 * seeds, (setting, false)


def test_wall_share_counts_the_whole_axis() -> None:
    # Regression: walls were measured against their own direction, so a few small shorts
    # beside $60M of longs each came out as a "wall".
    noise = background(random.Random(6), 400)
    total = sum(r.collateral_usd_8dec for r in noise)

    def short(i: int, collateral_8dec: int) -> PositionResult:
        return replace(result(i, 4_000 * USD, collateral_8dec), direction=Direction.UP)

    small = detect_bands([*noise, short(1, total // 50)], "ETH", NOW)
    assert not [b for b in small if b.direction is Direction.UP]
    large = detect_bands([*noise, short(1, total // 20)], "ETH", NOW)
    assert [(b.kind, b.positions) for b in large if b.direction is Direction.UP] == [("wall", 1)]


def test_a_small_market_of_alike_positions_has_no_walls() -> None:
    # issue 12: in a small market every position holds a few % of the whole, and walls
    # filled every slot; a wall must also stand out against the median position
    rnd = random.Random(12)
    small = [result(i, int(NOW * rnd.uniform(0.2, 0.95)), int(rnd.uniform(40_000, 60_000) * USD))
             for i in range(30)]  # fmt: skip
    assert [b for b in detect_bands(small, "ETH", NOW) if b.kind == "wall"] == []
    whale = result(99, int(NOW * 0.6), 2_000_000 * USD)
    walls = [b for b in detect_bands([*small, whale], "ETH", NOW) if b.kind == "wall"]
    assert [w.top_accounts for w in walls] == [(whale.account,)]


def test_walls_never_push_a_band_out_and_take_at_most_max_walls() -> None:
    rnd = random.Random(13)
    population = background(rnd) + demo_cluster(rnd, first_id=50_000)
    whales = [result(90_000 + i, int(NOW * (0.3 + 0.05 * i)), 30_000_000 * USD)
              for i in range(9)]  # fmt: skip
    found = detect_bands(population + whales, "ETH", NOW, max_bands=6)
    assert len(dense(found)) >= 1 and len(found) == 6
    assert sum(b.kind == "wall" for b in found) == 5  # max_walls
    assert [b.rank for b in found] == [1, 2, 3, 4, 5, 6]
    assert found == sorted(found, key=lambda b: -b.collateral_usd_8dec)


# The background positions `liqscan demo` (seed 1) has beside its planted cluster, as
# (distance beyond the planted extreme in %, collateral USD), from its snapshot. Low side:
# three Liquity v1 / Aave / Aave v3.6 positions of 4-12x the median ($14K) within 0.07% --
# 4.6x the background's density there, 65% of the cluster's own (one planted position per
# 0.0145% on average) -- then ordinary ones. High side: a $170K Maker vault 0.004% and a $22K
# Aave position 0.006% beyond, then ordinary ones.
DEMO_BELOW = ((0.010, 157_396), (0.040, 54_114), (0.068, 171_021), (0.107, 29_781),
              (0.123, 51), (0.129, 3_904), (0.129, 7_843), (0.145, 27_972), (0.164, 9_674))
DEMO_ABOVE = ((0.004, 170_347), (0.006, 21_719), (0.015, 5_703), (0.076, 2_826),
              (0.105, 13_094), (0.325, 48_862))


def _beside(edge_8dec: int, sign: int, neighbours: tuple[tuple[float, int], ...],
            first_id: int) -> list[PositionResult]:
    return [result(first_id + i, round(edge_8dec * (1 + sign * pct / 100)), usd * USD)
            for i, (pct, usd) in enumerate(neighbours)]


def test_the_demos_edges_are_where_its_collateral_density_falls_back() -> None:
    """Why `liqscan demo` reports $2,482.40-$2,556.09 for a cluster planted at $2,484.08-
    $2,555.94: its background holds positions as dense as the cluster right beside the planted
    extremes, so the collateral density falls back to the background only beyond them -- the
    band's edges by the issue's definition, and no detector can tell those positions from
    planted ones. Beside typical-size positions instead, none of them joins (the edge is the
    planted extreme, or inside it when the cluster's own outermost positions are small and
    sparse: 4 of 40 seeds)."""
    rnd = random.Random(12)
    planted = demo_cluster(rnd)
    prices = [r.liquidation_price_8dec or 0 for r in planted]
    low, high = min(prices), max(prices)
    # the synthetic background, with the demo's own neighbours within 0.5% of the cluster
    noise = [r for r in background(rnd)
             if not low * 0.995 <= (r.liquidation_price_8dec or 0) <= high * 1.005]
    below = _beside(low, -1, DEMO_BELOW, 60_000)
    above = _beside(high, 1, DEMO_ABOVE, 61_000)
    (band,) = [b for b in dense(detect_bands(noise + planted + below + above, "ETH", NOW))
               if b.low_8dec <= high and b.high_8dec >= low]
    assert (band.low_8dec, band.high_8dec) == (below[2].liquidation_price_8dec,
                                               above[1].liquidation_price_8dec)
    typical = [replace(r, collateral_usd_8dec=14_000 * USD) for r in below]
    (band,) = [b for b in dense(detect_bands(noise + planted + typical + above, "ETH", NOW))
               if b.low_8dec <= high and b.high_8dec >= low]
    assert band.low_8dec >= low
