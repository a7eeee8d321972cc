"""Band detection on synthetic populations: edge error, recall and false bands, per setting.

    .venv/bin/python bench/bench_bands.py [--seeds 200]

Populations come from scanner.devnet.band_population (heavy-tailed Pareto background over
-90%..-5%, one planted cluster of `contrast` x the local background collateral density, dust
beside its edges). Per setting and seed, the planted cluster counts as found when a band
(kind "band") has both edges within 0.5% of the cluster's outermost positions. Columns:

- found: share of seeds where it is found; edge p50/p95: the larger of the two edge errors of
  the band that overlaps the cluster most (100% when none does), median and 95th percentile;
- false: share of seeds with a band that does not overlap the cluster (contrast 0: any band);
- walls: mean number of walls reported per seed.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from scanner.devnet.band_population import PRICE_NOW_8DEC, Planted, Setting, generate
from scanner.domain import Band
from scanner.pipeline.bands import detect_bands

TOLERANCE = 0.005
SETTINGS = (
    Setting(contrast=0),
    Setting(contrast=0, background=400),
    Setting(contrast=1.5),
    Setting(contrast=2),
    Setting(contrast=3),
    Setting(contrast=5),
    Setting(contrast=10),
    Setting(contrast=3, width=0.01),
    Setting(contrast=3, width=0.07),
    Setting(contrast=3, background=400),
    Setting(contrast=10, background=400),
)


@dataclass(frozen=True)
class Outcome:
    edge_error: float  # larger of the two relative edge errors; 1.0 when no band overlaps
    false_band: bool  # a band that does not overlap the planted cluster
    walls: int


def _overlap(band: Band, truth: Planted) -> int:
    return max(0, min(band.high_8dec, truth.high_8dec) - max(band.low_8dec, truth.low_8dec))


def edge_error(band: Band, truth: Planted) -> float:
    return max(abs(band.low_8dec / truth.low_8dec - 1), abs(band.high_8dec / truth.high_8dec - 1))


def judge(bands: Sequence[Band], truth: Planted | None) -> Outcome:
    dense = [b for b in bands if b.kind == "band"]
    walls = len(bands) - len(dense)
    if truth is None:
        return Outcome(1.0, bool(dense), walls)
    hits = [b for b in dense if _overlap(b, truth) > 0]
    false_band = len(hits) < len(dense)
    if not hits:
        return Outcome(1.0, false_band, walls)
    best = max(hits, key=lambda b: _overlap(b, truth))
    return Outcome(edge_error(best, truth), false_band, walls)


def run(setting: Setting, seeds: int) -> list[Outcome]:
    outcomes = []
    for seed in range(seeds):
        population, truth = generate(seed, setting)
        outcomes.append(judge(detect_bands(population, "ETH", PRICE_NOW_8DEC), truth))
    return outcomes


def _percentile(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def row(setting: Setting, outcomes: list[Outcome]) -> str:
    n = len(outcomes)
    errors = [o.edge_error for o in outcomes]
    found = sum(e <= TOLERANCE for e in errors) / n
    false = sum(o.false_band for o in outcomes) / n
    walls = statistics.fmean(o.walls for o in outcomes)
    edges = "-" if setting.contrast == 0 else (
        f"{_percentile(errors, 0.5):.2%} | {_percentile(errors, 0.95):.2%}")
    found_text = "-" if setting.contrast == 0 else f"{found:.1%}"
    return (f"| {setting.contrast:g}x | {setting.width:.0%} | {setting.background} | {n} | "
            f"{found_text} | {edges} | {false:.1%} | {walls:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200, help="seeds per setting (default 200)")
    args = parser.parse_args()
    print("| contrast | width | background | seeds | found (both edges <= 0.5%) "
          "| edge error p50 | p95 | false bands | walls/seed |")
    print("|---|---|---|---|---|---|---|---|---|")
    for setting in SETTINGS:
        print(row(setting, run(setting, args.seeds)), flush=True)


if __name__ == "__main__":
    main()
