"""Per-block cost of an incremental snapshot against a full one (scanner.pipeline.incremental).

    .venv/bin/python bench/bench_incremental.py [--positions 10000] [--copies 1]
        [--touched-bps 100]

1. A full snapshot of a seeded Aave v3 devnet with its derivation bases (`scan_full`).
2. Real transactions touch `--touched-bps` of the borrowers (each supplies again), an hour
   passes, one block is mined.
3. The incremental snapshot of the new head (`scan_incremental`) and, into a second fresh
   database, a full snapshot of the same block (`scan_chain`): seconds, JSON-RPC requests,
   the ratio, and each one's cost split into stages (below). The two must hold the same
   positions, bins and bands, or the bench raises.

`--copies N` configures the devnet's Aave pool as N markets (keys `...-copy-K`): one snapshot
then holds N x the positions and goes through exactly the code of N real markets (N
discoveries, N reads of the reserves, N x the accounts read, derived, priced and stored) --
an honest replay of the 10k devnet at 100k, not a 100k-borrower devnet. Touched accounts are
touched in every copy (the same 1%).

Stages (wall seconds, measured by wrapping the pipeline's functions in this process only):
rpc (time with a JSON-RPC post in flight), read+derive (the reading stage without rpc:
discovery's database reads, decoding, deriving, bases), math (exact liquidation prices),
bins+bands, store (the snapshot's rows) and bases (reading and writing the derivation bases).
The incremental snapshot pauses the cyclic garbage collector (collector.collector_paused); the
full collection that defers is timed with it (under read+derive).
A full snapshot whose levels are computed while it reads (stream.py) has that math under
rpc / read+derive, not under math. Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import gc
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from latency_proxy import LatencyProxy

from scanner import aio
from scanner.chain.rpc import RpcClient
from scanner.config import Config, load_config
from scanner.devnet.network import Devnet, seeded_devnet, write_config
from scanner.devnet.population import AavePositionPlan
from scanner.devnet.rpc import DevnetRpc, Tx, calldata
from scanner.domain import PositionResult
from scanner.pipeline import incremental, scan
from scanner.pipeline.incremental import scan_full, scan_incremental
from scanner.pipeline.scan import scan_chain
from scanner.store import db
from scanner.store.repository import Repository

STAGES = ("rpc", "read+derive", "math", "bins+bands", "store", "bases")


class Stages:
    """Wall time per stage while installed (`with stages.installed():`)."""

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(STAGES, 0.0)
        self.in_flight, self.since = 0, 0.0

    def _timed(self, stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[stage] += time.perf_counter() - start
        return wrapper

    def _rpc(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            if self.in_flight == 0:
                self.since = time.perf_counter()
            self.in_flight += 1
            try:
                return await fn(*args, **kwargs)
            finally:
                self.in_flight -= 1
                if self.in_flight == 0:
                    self.seconds["rpc"] += time.perf_counter() - self.since
        return wrapper

    @contextmanager
    def installed(self) -> Iterator[None]:
        patches = [(RpcClient, "_http_post", self._rpc(RpcClient._http_post)),
                   (scan, "liquidation_results", self._timed("math", scan.liquidation_results)),
                   (scan, "histogram_and_bands", self._timed("bins+bands",
                                                             scan.histogram_and_bands)),
                   (scan, "store_snapshot", self._timed("store", scan.store_snapshot)),
                   (incremental, "store_snapshot", self._timed("store",
                                                               incremental.store_snapshot)),
                   (incremental, "save_bases", self._timed("bases", incremental.save_bases)),
                   (incremental, "latest_bases", self._timed("bases",
                                                             incremental.latest_bases))]
        saved = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
        for owner, name, new in patches:
            setattr(owner, name, new)
        try:
            yield
        finally:
            for owner, name, old in saved:
                setattr(owner, name, old)

    def split(self, total_seconds: float) -> dict[str, float]:
        """Every stage; read+derive is what is left of the total."""
        known = sum(v for k, v in self.seconds.items() if k != "read+derive")
        return {**self.seconds, "read+derive": max(0.0, total_seconds - known)}


def _config(devnet: Devnet, folder: Path, name: str, copies: int, rpc_url: str | None = None
            ) -> tuple[Config, Repository]:
    path = folder / f"{name}.toml"
    write_config(devnet, path, database_url=f"sqlite:///{folder / name}.db")
    config = load_config(path)
    if rpc_url is not None:  # the node behind a latency proxy
        config = dataclasses.replace(config, chains={
            key: dataclasses.replace(chain, rpc_url=rpc_url)
            for key, chain in config.chains.items()})
    aave = next(m for m in config.markets if m.protocol == "aave-v3")
    markets = ((aave,) if copies == 1 else
               tuple(dataclasses.replace(aave, key=f"{aave.key}-copy-{n}") for n in range(copies)))
    config = dataclasses.replace(config, markets=markets)
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


def run(devnet: Devnet, touched_bps: int, copies: int, profile: Path | None = None,
        latency_ms: float = 0.0) -> dict[str, Any]:
    """measure() on the devnet, which is left as it was (evm_snapshot / evm_revert); with
    `latency_ms`, both snapshots reach the node through a LatencyProxy holding each post."""
    rpc = DevnetRpc(devnet.rpc_url)
    snapshot = rpc.call("evm_snapshot")
    try:
        with tempfile.TemporaryDirectory() as folder:
            if not latency_ms:
                return measure(devnet, rpc, Path(folder), touched_bps, copies, profile)
            with LatencyProxy(devnet.rpc_url, latency_ms / 1000) as url:
                figures = measure(devnet, rpc, Path(folder), touched_bps, copies, profile, url)
            return {**figures, "latency_ms": latency_ms}
    finally:
        rpc.call("evm_revert", [snapshot])


def _timed_run(stages: Stages, job: Callable[[], Any]) -> tuple[Any, float, float]:
    """The job's result, wall seconds and this process's CPU seconds (the node's excluded)."""
    with stages.installed():
        start, cpu_start = time.perf_counter(), time.process_time()
        result = job()
        return result, time.perf_counter() - start, time.process_time() - cpu_start


def _profiled(profile: Path | None, job: Callable[[], Any]) -> Any:
    """The job, under cProfile when `profile` names a file for its stats."""
    if profile is None:
        return job()
    profiler = cProfile.Profile()
    try:
        return profiler.runcall(job)
    finally:
        profiler.dump_stats(profile)


def _collected(result: Any) -> Any:
    """`result`, after the garbage collection the incremental snapshot deferred
    (collector.collector_paused): timed with it, as a daemon pays it before its next block."""
    gc.collect()
    return result


def measure(devnet: Devnet, rpc: DevnetRpc, folder: Path, touched_bps: int,
            copies: int, profile: Path | None = None, rpc_url: str | None = None
            ) -> dict[str, Any]:
    """A full snapshot with bases, `touched_bps` of the borrowers touched by real
    transactions, then the timed incremental snapshot of the new head and a full one of the
    same block (raises SystemExit unless they hold the same positions, bins and bands)."""
    config, repo = _config(devnet, folder, "incremental", copies, rpc_url)
    markets = list(config.markets)
    start = time.perf_counter()
    first = aio.run(scan_full(config, markets, repo))
    full_with_capture = time.perf_counter() - start
    plans = [p for p in devnet.aave_plans if p.borrows]
    touched = plans[:: max(1, 10_000 // touched_bps)]
    _touch(rpc, devnet, touched)
    inc_stages, full_stages = Stages(), Stages()
    inc, inc_seconds, inc_cpu = _timed_run(inc_stages, lambda: _profiled(
        profile, lambda: _collected(aio.run(scan_incremental(config, markets, repo)))))
    if not inc.incremental:
        raise SystemExit(f"the snapshot was not incremental: {inc.reason}")
    config2, repo2 = _config(devnet, folder, "full", copies, rpc_url)
    full, full_seconds, full_cpu = _timed_run(full_stages, lambda: aio.run(scan_chain(
        config2, list(config2.markets), repo2, inc.outcome.record.block)))
    if (sorted(full.results, key=_row_key) != sorted(inc.outcome.results, key=_row_key)
            or full.bins != inc.outcome.bins or full.bands != inc.outcome.bands):
        raise SystemExit("the incremental snapshot differs from the full one")
    repo.engine.dispose()
    repo2.engine.dispose()
    return {**_unchanged(first.outcome.results, inc.outcome.results),
            "positions": sum(len(m.read.positions) for m in inc.outcome.markets),
            "copies": copies, "touched_accounts": len(touched), "reread": inc.reread,
            "derived": inc.derived, "bases_stored": first.bases_stored,
            "first_full_with_capture_s": full_with_capture,
            "full": {"s": full_seconds, "cpu_s": full_cpu, "requests": full.rpc_requests,
                     "stages": full_stages.split(full_seconds)},
            "incremental": {"s": inc_seconds, "cpu_s": inc_cpu,
                            "requests": inc.outcome.rpc_requests,
                            "stages": inc_stages.split(inc_seconds)}}


def _row_key(r: PositionResult) -> tuple[str, str, str, str]:
    """A result row's identity: one row per position and axis (a repr per row as the sort
    key held ~200 MB of strings at 100k, the bench's peak RSS)."""
    return r.market_key, r.submarket, r.account, r.axis


def _unchanged(before: Sequence[PositionResult], after: Sequence[PositionResult]
               ) -> dict[str, int]:
    """How many of `after`'s result rows equal the previous snapshot's row of the same
    position and axis (what storing only changed rows would save), and how many keep their
    liquidation price (where the previous price would be an exact seed for the solver)."""
    previous = {_row_key(r): r for r in before}
    same_rows = same_price = priced = 0
    for row in after:
        old = previous.get(_row_key(row))
        if old is None:
            continue
        same_rows += old == row
        if row.liquidation_price_native is not None:
            priced += 1
            same_price += old.liquidation_price_native == row.liquidation_price_native
    return {"rows": len(after), "rows_unchanged": same_rows, "priced": priced,
            "price_unchanged": same_price}


def report(f: dict[str, Any]) -> None:
    positions, copies = f["positions"], f["copies"]
    where = f" ({copies} copies of the pool)" if copies > 1 else ""
    if f.get("latency_ms"):
        where += f", every post held {f['latency_ms']:g} ms (a hosted provider's round trip)"
    print(f"{positions:,} positions{where}, {f['touched_accounts']} accounts touched, "
          f"{f['reread']:,} read ({f['reread'] / positions:.1%}), {f['derived']:,} derived; "
          f"first full snapshot + bases capture {f['first_full_with_capture_s']:.2f} s "
          f"(bases stored: {f['bases_stored']})")
    print(f"| snapshot | seconds | CPU s (this process) | JSON-RPC requests | "
          f"{' | '.join(STAGES)} |")
    print("|---|---|---|---|" + "---|" * len(STAGES))
    for name, key in (("full (scan_chain)", "full"),
                      ("incremental (scan_incremental)", "incremental")):
        run_ = f[key]
        stages = " | ".join(f"{run_['stages'][s]:.2f}" for s in STAGES)
        print(f"| {name} | {run_['s']:.2f} | {run_['cpu_s']:.2f} | {run_['requests']:,} | "
              f"{stages} |")
    print(f"result rows equal to the previous snapshot's: {f['rows_unchanged']:,} of "
          f"{f['rows']:,}; liquidation prices unchanged: {f['price_unchanged']:,} of "
          f"{f['priced']:,}")
    inc, full = f["incremental"], f["full"]
    without_math = (inc["s"] - inc["stages"]["math"]) / full["s"]
    print(f"incremental / full: {inc['s'] / full['s']:.1%} of the time "
          f"({inc['cpu_s'] / full['cpu_s']:.1%} of the CPU; {without_math:.1%} of the time "
          f"without the incremental's math), {inc['requests'] / max(1, full['requests']):.1%} "
          "of the requests (target at 100k positions, 1% touched: < 10%)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--positions", type=int, default=10_000)
    parser.add_argument("--copies", type=int, default=1, help="the pool configured as this "
                        "many markets (10 with 10,000 positions: 100,000 positions)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--touched-bps", type=int, default=100, help="share of the borrowers "
                        "touched between the snapshots, in bps (default 100 = 1%%)")
    parser.add_argument("--profile", type=Path, help="write cProfile stats of the incremental "
                        "snapshot to this file (its times are then inflated)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="hold every JSON-RPC "
                        "post this long before the node answers it (both snapshots), as a "
                        "hosted provider's round trip would")
    args = parser.parse_args()
    with seeded_devnet(seed=args.seed, aave_positions=args.positions) as devnet:
        report(run(devnet, args.touched_bps, args.copies, args.profile, args.latency_ms))


if __name__ == "__main__":
    main()
