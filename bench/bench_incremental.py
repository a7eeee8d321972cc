"""Per-block cost of an incremental snapshot against a full one (scanner.pipeline.incremental).

    .venv/bin/python bench/bench_incremental.py [--positions 10000] [--touched-bps 100]

1. A full snapshot of a seeded Aave v3 devnet with its derivation bases (`scan_full`): the scan
   and the capture of the bases, timed apart.
2. Real transactions touch `--touched-bps` of the borrowers (each supplies again), an hour
   passes, one block is mined.
3. The incremental snapshot of the new head (`scan_incremental`) and, into a second fresh
   database, a full snapshot of the same block (`scan_chain`): seconds, JSON-RPC requests, and
   the ratio. The two must hold the same positions, bins and bands, or the bench raises.
Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from scanner.config import Config, load_config
from scanner.devnet.network import Devnet, seeded_devnet, write_config
from scanner.devnet.population import AavePositionPlan
from scanner.devnet.rpc import DevnetRpc, Tx, calldata
from scanner.pipeline.incremental import scan_full, scan_incremental
from scanner.pipeline.scan import scan_chain
from scanner.store import db
from scanner.store.repository import Repository


def _config(devnet: Devnet, folder: Path, name: str) -> tuple[Config, Repository]:
    path = folder / f"{name}.toml"
    write_config(devnet, path, database_url=f"sqlite:///{folder / name}.db")
    config = load_config(path)
    db.upgrade(config.database_url)
    return config, Repository(db.make_engine(config.database_url))


def _touch(rpc: DevnetRpc, devnet: Devnet, plans: list[AavePositionPlan]) -> None:
    """Each account supplies its first collateral again: one Supply, one aToken Transfer."""
    rounds: list[list[Tx]] = [[], [], []]  # one transaction per sender in each batch
    for plan in plans:
        symbol, amount = plan.supplies[0]
        token, pool = devnet.aave.tokens[symbol], devnet.aave.pool
        rounds[0].append(Tx(plan.account, token, calldata("mint(uint256)", amount)))
        rounds[1].append(Tx(plan.account, token, calldata("approve(address,uint256)", pool,
                                                          amount)))
        rounds[2].append(Tx(plan.account, pool, calldata(
            "supply(address,uint256,address,uint16)", token, amount, plan.account, 0)))
    for txs in rounds:
        rpc.send_many(txs)
    rpc.call("evm_increaseTime", [3_600])
    rpc.mine()


def run(devnet: Devnet, touched_bps: int) -> None:
    rpc = DevnetRpc(devnet.rpc_url)
    snapshot = rpc.call("evm_snapshot")
    try:
        with tempfile.TemporaryDirectory() as folder:
            _measure(devnet, rpc, Path(folder), touched_bps)
    finally:
        rpc.call("evm_revert", [snapshot])


def _measure(devnet: Devnet, rpc: DevnetRpc, folder: Path, touched_bps: int) -> None:
    config, repo = _config(devnet, folder, "incremental")
    markets = [m for m in config.markets if m.protocol == "aave-v3"][:1]
    start = time.perf_counter()
    first = asyncio.run(scan_full(config, markets, repo))
    full_with_capture = time.perf_counter() - start
    plans = [p for p in devnet.aave_plans if p.borrows]
    _touch(rpc, devnet, plans[:: max(1, 10_000 // touched_bps)])
    start = time.perf_counter()
    inc = asyncio.run(scan_incremental(config, markets, repo))
    incremental = time.perf_counter() - start
    if not inc.incremental:
        raise SystemExit(f"the snapshot was not incremental: {inc.reason}")
    config2, repo2 = _config(devnet, folder, "full")
    start = time.perf_counter()
    full = asyncio.run(scan_chain(config2, markets, repo2, inc.outcome.record.block))
    full_seconds = time.perf_counter() - start
    if (sorted(full.results, key=repr) != sorted(inc.outcome.results, key=repr)
            or full.bins != inc.outcome.bins or full.bands != inc.outcome.bands):
        raise SystemExit("the incremental snapshot differs from the full one")
    positions = len(inc.outcome.markets[0].read.positions)
    print(f"{positions:,} positions, {inc.reread:,} read ({inc.reread / positions:.1%}), "
          f"{inc.derived:,} derived; first full snapshot + bases capture "
          f"{full_with_capture:.2f} s (bases stored: {first.bases_stored})")
    print("| snapshot | seconds | JSON-RPC requests |")
    print("|---|---|---|")
    print(f"| full (scan_chain) | {full_seconds:.2f} | {full.rpc_requests:,} |")
    print(f"| incremental (scan_incremental) | {incremental:.2f} | "
          f"{inc.outcome.rpc_requests:,} |")
    print(f"incremental / full: {incremental / full_seconds:.1%} of the time, "
          f"{inc.outcome.rpc_requests / max(1, full.rpc_requests):.1%} of the requests "
          "(target at 100k positions, 1% touched: < 10%)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--positions", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--touched-bps", type=int, default=100, help="share of the borrowers "
                        "touched between the snapshots, in bps (default 100 = 1%%)")
    args = parser.parse_args()
    with seeded_devnet(seed=args.seed, aave_positions=args.positions) as devnet:
        run(devnet, args.touched_bps)


if __name__ == "__main__":
    main()
