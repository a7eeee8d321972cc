"""`liqscan demo` as a user runs it: the planted cluster is found with EXACT edges.

The demo plants DEMO_CLUSTERS (~$25M of WETH longs on Aave v3.0 liquidated between $2,480 and
$2,560) over the background of eight protocols, which the devnet keeps `MARGIN` (2%) clear of
that window (scanner.devnet.keepout).

"Exact edges": band edges are the outermost positions' own liquidation prices
(scanner.pipeline.bands), not bin edges, so the ETH band over the cluster must have
low_8dec == the lowest and high_8dec == the highest liquidation price (8 decimals, as stored
in the same snapshot) of the planted positions -- integer equality -- and hold exactly them.
The printed band line shows both edges at its precision (cents).

Both runs use the demo's own defaults (seed 1, every size as `liqscan demo` has it), so the
first shares its devnet cache entry with `make demo`.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from scanner.demo import DEMO_CLUSTERS
from scanner.devnet.keepout import MARGIN
from scanner.devnet.population import generate_aave_population
from scanner.report.format import axis_price

SEED = 1  # scanner/cli.py: demo --seed default
AAVE_POSITIONS = 2_000  # demo --aave-positions default
USD_8DEC = 10**8


@dataclass(frozen=True)
class Demo:
    out: str
    db: sqlite3.Connection


def _run_demo(out: Path, *extra: str) -> Demo:
    result = subprocess.run([sys.executable, "-m", "scanner.cli", "demo", "--out", str(out),
                             *extra], capture_output=True, text=True, timeout=3_600)
    assert result.returncode == 0, result.stderr[-3_000:]
    return Demo(result.stdout, sqlite3.connect(out / "liqscan.db"))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return _run_demo(tmp_path_factory.mktemp("demo") / "out")


@pytest.fixture(scope="module")
def demo_no_background_aave(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return _run_demo(tmp_path_factory.mktemp("demo0") / "out", "--aave-positions", "0")


def _planted(aave_positions: int) -> set[str]:
    plans = generate_aave_population(SEED, aave_positions, DEMO_CLUSTERS)
    return {p.account.lower() for p in plans if p.cluster == 0}


def _eth_longs(db: sqlite3.Connection) -> list[tuple[str, str, int]]:
    """(market, account, liquidation price) of every ETH long at risk in the snapshot."""
    rows = db.execute(
        "SELECT p.market_key, lower(p.account), p.liquidation_price_8dec FROM positions p "
        "JOIN scans s ON s.id = p.scan_id WHERE s.snapshot_id = "
        "(SELECT max(id) FROM snapshots) AND p.axis = 'ETH' AND p.status = 'at_risk' "
        "AND p.direction = 'down'").fetchall()
    return [(m, a, int(price)) for m, a, price in rows]


def _eth_bands(db: sqlite3.Connection) -> list[tuple[int, int, int, str]]:
    rows = db.execute(
        "SELECT low_8dec, high_8dec, positions, kind FROM bands WHERE snapshot_id = "
        "(SELECT max(id) FROM snapshots) AND axis = 'ETH' AND direction = 'down'").fetchall()
    return [(int(low), int(high), n, kind) for low, high, n, kind in rows]


def _assert_exact_band(demo: Demo, planted_accounts: set[str]) -> None:
    longs = _eth_longs(demo.db)
    planted = [price for market, account, price in longs
               if market == "aave-v3-devnet" and account in planted_accounts]
    assert len(planted) == len(planted_accounts)  # every planted position is at risk on ETH
    low, high = min(planted), max(planted)
    (cluster,) = DEMO_CLUSTERS
    assert cluster.low_usd * USD_8DEC <= low < high <= cluster.high_usd * USD_8DEC
    # the background kept its margin on the chain too, not only in the plans
    guard_low = cluster.low_usd * (1 - MARGIN) * USD_8DEC
    guard_high = cluster.high_usd * (1 + MARGIN) * USD_8DEC
    intruders = [(m, a, p) for m, a, p in longs if guard_low <= p <= guard_high
                 and not (m == "aave-v3-devnet" and a in planted_accounts)]
    assert intruders == []
    over = [b for b in _eth_bands(demo.db) if b[0] <= high and b[1] >= low]
    assert over == [(low, high, len(planted), "band")]
    assert f"ETH  {axis_price(low)} - {axis_price(high)}   " in demo.out


def test_the_demo_finds_its_planted_cluster_with_exact_edges(demo: Demo) -> None:
    _assert_exact_band(demo, _planted(AAVE_POSITIONS))


def test_the_demo_without_aave_background_reports_the_planted_band(
        demo_no_background_aave: Demo) -> None:
    # Regression (issue 12): with the cluster all there is on Aave v3.0, "no dense bands".
    _assert_exact_band(demo_no_background_aave, _planted(0))
