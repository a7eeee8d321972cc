"""One end-to-end scan of a large devnet, its stages, and exact vs closed-form liquidation math.

    .venv/bin/python bench/bench_scan.py [--positions 10000] [--seed 7]

1. `scan_market` into a fresh SQLite database in a temporary directory (total seconds).
2. The same stages, timed one by one with the functions the pipeline calls (adapter methods,
   liquidation_results, histogram_and_bands, repo.save_scan), into a second fresh database.
3. Baseline in the same process: the closed form (closed_form_liquidation_price) against the
   exact integer-mirror bisection (liquidation_result), per position and axis: speed ratio and
   accuracy gap. This is the measured price of exactness. Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from scanner import aio
from scanner.chain import RpcClient, confirmed_head
from scanner.config import Config, load_config
from scanner.devnet.network import Devnet, seeded_devnet, write_config
from scanner.domain import Axis, MarketRead, PositionStatus, ScanRecord
from scanner.pipeline.axes import resolve_axes
from scanner.pipeline.liquidation import SENSITIVITY_RANGE, liquidation_result
from scanner.pipeline.scan import (
    SnapshotOutcome,
    histogram_and_bands,
    liquidation_results,
    scan_chain,
)
from scanner.protocols.aave_v3.read import AaveV3Adapter, market_read
from scanner.protocols.aave_v3.rule import closed_form_liquidation_price
from scanner.protocols.aave_v3.state import AaveAccount, AaveMarketState
from scanner.store import db
from scanner.store.repository import Repository

GAP_THRESHOLD = 1e-4  # 0.01%


def fresh_config(devnet: Devnet, folder: Path) -> tuple[Config, Repository]:
    """Config for the devnet with its SQLite database in `folder`, migrated and empty."""
    path = folder / "config.toml"
    write_config(devnet, path)
    url = f"sqlite:///{folder / 'liqscan.db'}"
    path.write_text(path.read_text().replace('url = "sqlite:///liqscan.db"', f'url = "{url}"'))
    config = load_config(path)
    db.upgrade(config.database_url)
    return config, Repository(db.make_engine(config.database_url))


@dataclass
class Stages:
    seconds: dict[str, float]
    state: AaveMarketState
    positions: list[AaveAccount]
    axes: list[Axis]


async def _read_stages(config: Config, seconds: dict[str, float]
                       ) -> tuple[int, dict[str, int], AaveMarketState, list[AaveAccount]]:
    market = config.markets[0]
    chain = config.chains[market.chain]
    async with RpcClient(chain.require_rpc_url(), max_concurrency=chain.max_concurrency,
                         max_batch_size=chain.max_batch_size) as rpc:
        start = time.perf_counter()
        block = confirmed_head(await rpc.block_number(), chain.confirmations)
        adapter = AaveV3Adapter(rpc, market, chain)
        addresses = await adapter.resolve(block)
        found = await adapter.discover_accounts(addresses, market.start_block, block)
        lap = time.perf_counter()
        seconds["discovery (resolve + Borrow logs)"] = lap - start
        state = await adapter.read_market(addresses, block)
        positions = await adapter.read_accounts(addresses, state, sorted(found), block)
        seconds["reads (market + accounts)"] = time.perf_counter() - lap
    return block, found, state, positions


def run_stages(config: Config, repo: Repository) -> Stages:
    seconds: dict[str, float] = {}
    block, found, state, positions = aio.run(_read_stages(config, seconds))
    market = config.markets[0]
    start = time.perf_counter()
    # the adapter checks the mirror against the pool's own data while building Positions
    read: MarketRead = market_read(market.protocol, state, positions)
    lap = time.perf_counter()
    seconds["mirror check + neutral positions"] = lap - start
    axes = resolve_axes(config.axes, read.assets)
    results = liquidation_results(read, axes)
    seconds["liquidation math (exact)"] = time.perf_counter() - lap
    lap = time.perf_counter()
    bins, bands = histogram_and_bands(results, axes, config)
    seconds["histogram + bands"] = time.perf_counter() - lap
    chain = config.chains[market.chain]
    record = ScanRecord(chain=chain.name, chain_id=chain.chain_id, market_key=market.key,
                        protocol=market.protocol, block=block,
                        block_timestamp=state.block_timestamp, pool_revision=state.pool_revision)
    lap = time.perf_counter()
    repo.save_scan(record, results, bins, bands, found, block)
    seconds["store (save_scan)"] = time.perf_counter() - lap
    return Stages(seconds, state, positions, axes)


@dataclass(frozen=True)
class MathComparison:
    exact_seconds: float
    closed_seconds: float
    compared: int  # AT_RISK results with an exact price
    beyond_threshold: int
    max_relative_gap: float
    existence_disagrees: int  # closed form has a price and exact has none, or the reverse
    disagrees_in_range: int  # of those, the closed-form price lies within the sensitivity range


def compare_math(state: AaveMarketState, positions: Sequence[AaveAccount], axes: Sequence[Axis],
                 protocol: str) -> MathComparison:
    pairs = [(a, axis) for axis in axes for a in positions]
    start = time.perf_counter()
    read = market_read(protocol, state, positions)
    exact = [liquidation_result(p, axis) for axis in axes for p in read.positions]
    exact_seconds = time.perf_counter() - start
    start = time.perf_counter()
    closed = [closed_form_liquidation_price(a, state, axis) for a, axis in pairs]
    closed_seconds = time.perf_counter() - start
    compared = beyond = disagree = in_range = 0
    max_gap = 0.0
    for result, guess in zip(exact, closed, strict=True):
        if result is None or result.status == PositionStatus.LIQUIDATABLE_NOW:
            continue  # no debt, or the boundary is one the closed form does not describe
        price = result.liquidation_price_8dec
        if (price is None) != (guess is None):
            disagree += 1
            low = result.axis_price_now_8dec // SENSITIVITY_RANGE
            high = result.axis_price_now_8dec * SENSITIVITY_RANGE
            in_range += guess is not None and low <= guess <= high
            continue
        if price is None or guess is None:
            continue
        compared += 1
        gap = abs(guess - price) / price
        beyond += gap > GAP_THRESHOLD
        max_gap = max(max_gap, gap)
    return MathComparison(exact_seconds, closed_seconds, compared, beyond, max_gap, disagree,
                          in_range)


def report(total: float, outcome: SnapshotOutcome, stages: Stages, math: MathComparison) -> None:
    print(f"scan_chain end to end: {total:.2f} s ({outcome.accounts_known} borrowers, "
          f"{outcome.accounts_with_debt} with debt, {len(outcome.axes)} axes, "
          f"{len(outcome.results)} results, {len(outcome.bins)} bins, {len(outcome.bands)} bands, "
          f"{len(outcome.mirror_mismatches)} mirror mismatches)")
    staged = sum(stages.seconds.values())
    print(f"stages timed one by one (sum {staged:.2f} s):")
    for name, seconds in stages.seconds.items():
        print(f"  {name:<36} {seconds:>7.2f} s  {100 * seconds / staged:>5.1f}%")
    pairs = len(stages.positions) * len(stages.axes)
    ratio = math.exact_seconds / math.closed_seconds if math.closed_seconds else float("inf")
    print(f"liquidation math, {pairs} position x axis pairs:")
    print(f"  exact bisection (liquidation_result)   {math.exact_seconds:>7.2f} s "
          f"({1e6 * math.exact_seconds / pairs:.0f} us each)")
    print(f"  closed form (baseline)                 {math.closed_seconds:>7.2f} s "
          f"({1e6 * math.closed_seconds / pairs:.0f} us each)")
    print(f"  exact costs {ratio:.1f}x the closed form")
    share = 100 * math.beyond_threshold / math.compared if math.compared else 0.0
    print(f"  closed form off by > 0.01%: {math.beyond_threshold} of {math.compared} at-risk "
          f"prices ({share:.1f}%), max relative gap {100 * math.max_relative_gap:.3f}%; "
          f"a price exists for one and not the other for {math.existence_disagrees} "
          f"({math.disagrees_in_range} with the closed-form price inside the "
          f"1/{SENSITIVITY_RANGE}..{SENSITIVITY_RANGE}x range the scanner reports)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--positions", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    start = time.perf_counter()
    with (
        seeded_devnet(seed=args.seed, aave_positions=args.positions) as devnet,
        tempfile.TemporaryDirectory() as folder,
    ):
        how = "loaded from the cache" if devnet.from_cache else "built"
        print(f"bench_scan: devnet of {args.positions} Aave positions (seed {args.seed}) "
              f"{how} in {time.perf_counter() - start:.1f} s")
        (Path(folder) / "full").mkdir()
        (Path(folder) / "staged").mkdir()
        config, repo = fresh_config(devnet, Path(folder) / "full")
        start = time.perf_counter()
        outcome = aio.run(scan_chain(config, list(config.markets), repo))
        total = time.perf_counter() - start
        repo.engine.dispose()
        config, repo = fresh_config(devnet, Path(folder) / "staged")
        stages = run_stages(config, repo)
        repo.engine.dispose()
    math = compare_math(stages.state, stages.positions, stages.axes, config.markets[0].protocol)
    report(total, outcome, stages, math)


if __name__ == "__main__":
    main()
