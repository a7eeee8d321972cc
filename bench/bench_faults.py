"""Scans through the fault-injecting proxy (tests/fault_proxy.py): how many give the clean
snapshot, how many stop cleanly with exit 75, and what the faults cost in wall time.

    .venv/bin/python bench/bench_faults.py [--positions 600] [--seeds 8] [--rates 0.1,0.3,0.5]

One devnet (cached), one clean scan of its head block as the reference, then for each rate and
seed one scan of the same block into a fresh SQLite database, every fault kind mixed. A run
that stores anything other than the reference, or fails other than with exit 75 and nothing
written, is counted as WRONG (there should be none). Held connections are abandoned after
1 s (`request_timeout_seconds`; the default is 10 s).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scanner import aio
from scanner.config import Config
from scanner.devnet.network import seeded_devnet
from scanner.pipeline.scan import scan_market
from tests.integration.fault_helpers import (
    Snapshot,
    fresh_sqlite,
    scan_through_proxy,
    stored_snapshot,
)
from tests.integration.scan_helpers import devnet_config, fresh_repo


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--positions", type=int, default=600)
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--rates", default="0.1,0.3,0.5")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    wrong = 0
    with seeded_devnet(seed=7, aave_positions=args.positions) as devnet, \
            tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = devnet_config(devnet, folder, fresh_sqlite(folder, "clean"))
        repo = fresh_repo(config)
        started = time.monotonic()
        clean = aio.run(scan_market(config, config.markets[0], repo, devnet.head_block))
        clean_seconds = time.monotonic() - started
        expected = stored_snapshot(repo, clean.snapshot_id)
        print(f"clean scan: {clean.accounts_with_debt} positions, {clean_seconds:.1f} s")
        print("rate  seeds  identical  exit-75  wrong  faults/scan  wall s (median, max)")
        for rate in rates:
            wrong += run_rate(config, folder, devnet.rpc_url, devnet.head_block, expected,
                              rate, args.seeds)
    return 1 if wrong else 0


def run_rate(config: Config, folder: Path, upstream: str, block: int, expected: Snapshot,
             rate: float, seeds: int) -> int:
    counts: Counter[str] = Counter()
    walls: list[float] = []
    faults = 0
    refusals: Counter[str] = Counter()
    for seed in range(1, seeds + 1):
        faulty = with_database(config, rate, seed, folder)
        repo = fresh_repo(faulty)
        run = aio.run(scan_through_proxy(faulty, repo, block, upstream, rate=rate, seed=seed))
        walls.append(run.wall_seconds)
        faults += sum(run.injected.values())
        if run.error is not None:
            clean_refusal = run.error.exit_code == 75 and repo.latest_snapshot_id() is None
            counts["exit-75" if clean_refusal else "wrong"] += 1
            refusals[f"exit {run.error.exit_code}: {run.error.message[:70]}"] += 1
        elif run.outcome is not None and stored_snapshot(repo, run.outcome.snapshot_id) == expected:
            counts["identical"] += 1
        else:
            counts["wrong"] += 1
    walls.sort()
    print(f"{rate:4.0%}  {seeds:5d}  {counts['identical']:9d}  {counts['exit-75']:7d}  "
          f"{counts['wrong']:5d}  {faults / seeds:11.1f}  "
          f"{walls[len(walls) // 2]:.1f}, {walls[-1]:.1f}", flush=True)
    for reason, n in refusals.items():
        print(f"      {n} x {reason}")
    return counts["wrong"]


def with_database(config: Config, rate: float, seed: int, folder: Path) -> Config:
    return dataclasses.replace(config, database_url=fresh_sqlite(folder, f"r{rate}-s{seed}"))


if __name__ == "__main__":
    sys.exit(main())
