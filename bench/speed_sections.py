"""The measurements of bench_speed.py, one function per section. Each section runs in its own
interpreter (bench_speed.py starts them), so its peak RSS is its own; it returns a dict of
figures that the parent prints beside the issue's targets."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import pickle
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, cast

from bench_scan import fresh_config
from speed_naive import naive_read
from speed_node import cpu_seconds, node_pid, usable_cores
from speed_traffic import recording, replay
from sqlalchemy import Table, text

from scanner import aio
from scanner.chain.pin import pin_block
from scanner.chain.rpc import RpcClient
from scanner.config import Config, MarketConfig
from scanner.devnet.network import AAVE_MARKET_KEY, Devnet, seeded_devnet
from scanner.devnet.population import ClusterSpec
from scanner.domain import MarketRead, Position, PositionResult, ScanRecord
from scanner.pipeline.axes import resolve_axes
from scanner.pipeline.liquidation import liquidation_result
from scanner.pipeline.persist import store_snapshot
from scanner.pipeline.scan import Discovery, _read_market, compute_snapshot, scan_chain
from scanner.protocols import protocol_spec
from scanner.store import db
from scanner.store.models import PositionRow
from scanner.store.repository import Repository

POSITIONS = cast(Table, PositionRow.__table__)

SEED = 7
BIG = {"aave_positions": 10_000, "morpho_positions": 1_000, "compound_positions": 500}
NAIVE_SAMPLE = 100
FLOOR_REPLAYS = 3  # the floor is the fastest; the node's CPU per replay their mean
SCALE_COPIES = 10  # 10k borrowers read 10 times: 100k positions
DB_SNAPSHOTS = 10
ROWS_PER_SNAPSHOT = 100_000  # x 10 snapshots: 1M position rows
ROOT = Path(__file__).resolve().parent.parent


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _markets(config: Config, only: str | None = None) -> list[MarketConfig]:
    return [m for m in config.markets if only is None or m.key == only]


# --- snapshot: end to end, its floor, the naive baseline, incremental -------------------


def snapshot(folder: Path) -> dict[str, Any]:
    with seeded_devnet(seed=SEED, **BIG) as devnet:
        config, repo = fresh_config(devnet, folder)
        node = node_pid()
        with recording() as traffic:
            node_start = 0.0 if node is None else cpu_seconds(node)
            start, cpu_start = time.perf_counter(), time.process_time()
            outcome = aio.run(scan_chain(config, _markets(config), repo))
            end = time.perf_counter()
            wall, cpu = end - start, time.process_time() - cpu_start
            node_cpu = None if node is None else cpu_seconds(node) - node_start
        last_answer = end if traffic.last_answer_at is None else traffic.last_answer_at
        figures: dict[str, Any] = {
            "wall_s": wall, "cpu_s": cpu, "node_cpu_s": node_cpu, "cores": usable_cores(),
            "in_flight_s": traffic.in_flight_s, "after_last_answer_s": end - last_answer,
            "positions": outcome.accounts_with_debt,
            "posts": traffic.posts, "calls": traffic.calls, "bytes_sent": traffic.bytes_sent,
            "peak_rss_mb": peak_rss_mb(),
            "markets": {m.record.market_key: m.accounts_with_debt for m in outcome.markets},
        }
        chain = config.chains[config.markets[0].chain]
        node_start = 0.0 if node is None else cpu_seconds(node)
        floor = replay(devnet.rpc_url, traffic.bodies, chain.max_concurrency, FLOOR_REPLAYS)
        figures |= {"floor_s": floor.seconds, "bytes_received": floor.bytes_received,
                    "concurrency": chain.max_concurrency,
                    "floor_node_cpu_s": None if node is None else (
                        cpu_seconds(node) - node_start) / FLOOR_REPLAYS}
        figures |= _naive(devnet, outcome.record.block, outcome.markets)
        repo.engine.dispose()
    return figures


def _naive(devnet: Devnet, block: int, markets: Sequence[Any]) -> dict[str, Any]:
    aave = next(m for m in markets if m.record.market_key == AAVE_MARKET_KEY)
    users = [p.account for p in aave.read.positions[:NAIVE_SAMPLE]]
    found = naive_read(devnet.rpc_url, devnet.aave.pool, devnet.aave.data_provider,
                       devnet.aave.oracle, users, block)
    return {"naive_sample": found.sample, "naive_sample_s": found.seconds,
            "naive_calls": found.calls, "naive_s_per_position": found.seconds_per_position}


# --- scaling: 1k, 10k and 100k positions by one method ------------------------------------

# Each point reads the 10k devnet's Aave borrowers through the adapter's real read path: the
# first tenth of them (1k), all once (10k), all ten times (100k; the copies get stand-in
# addresses), then the pipeline's own math, bins, bands and store of what was read.
SCALE_POINTS = {"scale_1k": (1, 10), "scale_10k": (1, 1), "scale_100k": (10, 1)}
# section -> (reads of the borrowers, 1 / share of the borrowers each read takes)


def _copy_address(account: str, copy: int) -> str:
    """A distinct stand-in address for copy `copy` (> 0) of a real borrower."""
    return "0x" + f"{int(account, 16) ^ (copy << 150):040x}"


def _copies(read: MarketRead, copy: int) -> list[Position]:
    if copy == 0:
        return list(read.positions)
    return [dataclasses.replace(p, account=_copy_address(p.account, copy))
            for p in read.positions]


async def _read_scaled(config: Config, market: MarketConfig, repo: Repository, reads: int,
                       share_div: int) -> tuple[int, Discovery, MarketRead, Any,
                                                dict[str, float]]:
    """Fixed costs (discovery's log search, the market's resolution) timed apart from the
    reads of the borrowers, which scale with the positions."""
    from scanner.pipeline.discovery import plan_discovery
    from scanner.pipeline.resolve import resolve_market
    from scanner.pipeline.scan import _no_progress, discover_market

    seconds: dict[str, float] = {}
    chain = config.chains[market.chain]
    async with RpcClient.for_chain(chain) as rpc:
        block = await rpc.block_number() - chain.confirmations
        pinned = await pin_block(rpc, block)
        start, cpu_start = time.perf_counter(), time.process_time()
        adapter = protocol_spec(market.protocol).adapter(rpc, market, chain)
        plan = await plan_discovery(rpc, repo, config, market, block)
        resolved = await resolve_market(adapter, config, market, block)
        discovery = await discover_market(adapter, resolved, market, repo, block, plan,
                                          _no_progress)
        seconds["fixed: discovery + market resolution"] = time.perf_counter() - start
        seconds["fixed, CPU"] = time.process_time() - cpu_start  # not a stage: not summed
        accounts = discovery.accounts[: len(discovery.accounts) // share_div]
        start = time.perf_counter()
        positions: list[Position] = []
        first: MarketRead | None = None
        for copy in range(reads):
            again = await adapter.read(resolved, accounts, block)
            first = first or again
            positions += _copies(again, copy)
        seconds["read"] = time.perf_counter() - start
    assert first is not None
    read = dataclasses.replace(first, positions=tuple(positions))
    return block, discovery, read, pinned, seconds


def scale(folder: Path, section: str, results_file: Path | None = None) -> dict[str, Any]:
    """One point of the scaling line (SCALE_POINTS), on the 10k devnet's Aave market."""
    reads, share_div = SCALE_POINTS[section]
    with seeded_devnet(seed=SEED, **BIG) as devnet:
        config, repo = fresh_config(devnet, folder)
        market = _markets(config, AAVE_MARKET_KEY)[0]
        cpu_start = time.process_time()
        block, discovery, read, pinned, seconds = aio.run(
            _read_scaled(config, market, repo, reads, share_div))
    chain = config.chains[market.chain]
    start = time.perf_counter()
    outcome = compute_snapshot(config, chain, block, [(market, discovery, read)])
    seconds["math + bins + bands"] = time.perf_counter() - start
    start = time.perf_counter()
    store_snapshot(repo, outcome, pinned)
    seconds["store"] = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    repo.engine.dispose()
    cpu_fixed = seconds.pop("fixed, CPU")
    figures = {"positions": len(read.positions), "seconds": seconds, "cpu_s": cpu_seconds,
               "cpu_fixed_s": cpu_fixed, "wall_s": sum(seconds.values()),
               "peak_rss_mb": peak_rss_mb(), "results": len(outcome.results), "reads": reads,
               "share_div": share_div}
    if results_file is not None:
        figures |= pure_math(read, config)
        config_text = (folder / "config.toml").read_text()
        with results_file.open("wb") as out:
            pickle.dump((outcome.markets[0].record, list(outcome.results), config_text), out)
    return figures


def scale_100k(folder: Path, results_file: Path) -> dict[str, Any]:
    """The 100k point; also pure math on its positions, and its results for `storage`."""
    return scale(folder, "scale_100k", results_file)


# --- incremental: the per-block cost at 10k and 100k, 1% touched -------------------------


def incremental_cost(copies: int, latency_ms: float = 0.0) -> dict[str, Any]:
    """bench_incremental.py's measurement on the 10k devnet's Aave market, configured as
    `copies` markets (10: 100,000 positions): a full snapshot with bases, 1% of the borrowers
    touched by real supplies on the node (in every copy), then the incremental snapshot of
    the next block timed against a full one of the same block (equal, or it raises). With
    `latency_ms`, every post of both snapshots is held that long (latency_proxy.py)."""
    import bench_incremental

    with seeded_devnet(seed=SEED, **BIG) as devnet:
        figures = bench_incremental.run(devnet, touched_bps=100, copies=copies,
                                        latency_ms=latency_ms)
    figures["peak_rss_mb"] = peak_rss_mb()
    return figures


def pure_math(read: MarketRead, config: Config) -> dict[str, Any]:
    """Exact liquidation prices on one axis (the first configured), one core: wall time, and
    the process's CPU time (less inflated when other jobs share the cores)."""
    axis = resolve_axes(config.axes, read.assets)[0]
    start, cpu_start = time.perf_counter(), time.process_time()
    done = sum(liquidation_result(p, axis) is not None for p in read.positions)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    return {"math_positions": len(read.positions), "math_results": done, "math_s": seconds,
            "math_cpu_s": cpu_seconds, "math_axis": axis.name}


async def _read_once(config: Config, market: MarketConfig, repo: Repository) -> MarketRead:
    chain = config.chains[market.chain]
    async with RpcClient.for_chain(chain) as rpc:
        block = await rpc.block_number() - chain.confirmations
        _, _, read = await _read_market(rpc, config, market, repo, block, lambda *_: None)
    return read


def math_only(folder: Path) -> dict[str, Any]:
    """Pure math alone on the 10k devnet's Aave positions (one read; the 100k section times
    the same borrowers read ten times), then every other market of that devnet on its first
    axis, by protocol (each market's positions repeated to ~10,000 evaluations, CPU time)."""
    with seeded_devnet(seed=SEED, **BIG) as devnet:
        config, repo = fresh_config(devnet, folder)
        reads = [aio.run(_read_once(config, market, repo)) for market in config.markets]
        repo.engine.dispose()
    aave = next(read for read in reads if read.market_key == AAVE_MARKET_KEY)
    figures = pure_math(aave, config)
    figures["math_by_protocol"] = [_protocol_rate(read, config, "10k") for read in reads]
    figures["math_by_protocol"] += _other_protocol_rates(folder / "others",
                                                         {read.protocol for read in reads})
    return figures


# The test suite's devnet (tests/integration/conftest.py, so usually cached): the lenders the
# 10k devnet does not seed
OTHERS: dict[str, Any] = {
    "aave_positions": 600, "morpho_positions": 100, "aave36_positions": 300,
    "compound_positions": 220, "aave2_positions": 240, "maker_positions": 80, "uniswap": True,
    "liquity1_troves": 240, "liquity2_positions": 110,
    "clusters": (ClusterSpec(asset="WETH", total_usd=3_000_000, low_usd=2_300,
                             high_usd=2_400),)}


def _other_protocol_rates(folder: Path, done: set[str]) -> list[dict[str, Any]]:
    """Per-protocol rates of every protocol the 10k devnet lacks (Aave v2, Maker, Liquity v1
    and v2), on the test suite's devnet."""
    folder.mkdir(parents=True, exist_ok=True)
    with seeded_devnet(seed=SEED, **OTHERS) as devnet:
        config, repo = fresh_config(devnet, folder)
        markets = [market for market in config.markets if market.protocol not in done]
        reads = [aio.run(_read_once(config, market, repo)) for market in markets]
        repo.engine.dispose()
    return [_protocol_rate(read, config, "test suite's") for read in reads]


# Each protocol's rate is the median of this many timings of ~10,000 evaluations (~0.1-0.3 s
# of CPU each): one such timing of the same code swung 36-53k /s within a minute.
RATE_ROUNDS = 5


def _protocol_rate(read: MarketRead, config: Config, devnet: str) -> dict[str, Any]:
    axis = resolve_axes(config.axes, read.assets)[0]
    repeats = max(1, 10_000 // max(1, len(read.positions)))
    rounds = []
    for _ in range(RATE_ROUNDS):
        cpu_start = time.process_time()
        for _ in range(repeats):
            for position in read.positions:
                liquidation_result(position, axis)
        rounds.append(time.process_time() - cpu_start)
    return {"market": read.market_key, "protocol": read.protocol, "axis": axis.name,
            "positions": len(read.positions) * repeats, "cpu_s": statistics.median(rounds),
            "cpu_rounds_s": rounds, "devnet": devnet}


# --- storage and queries: 100k writes, 1M rows, CLI start-up ----------------------------


def storage(folder: Path, results_file: Path) -> dict[str, Any]:
    with results_file.open("rb") as source:
        record, results, config_text = pickle.load(source)
    results = results[:ROWS_PER_SNAPSHOT]
    figures: dict[str, Any] = {"rows_per_snapshot": len(results)}
    sqlite_url = f"sqlite:///{folder / 'million.db'}"
    figures["sqlite"] = _fill_and_query(sqlite_url, record, results, folder, config_text)
    figures["cli_bands_s"], figures["cli_bands_cpu_s"] = _cli_startup(
        folder / "config-sqlite.toml")
    sys.path.insert(0, str(ROOT))
    from tests.pg_server import PostgresUnavailable, running_postgres
    try:
        with running_postgres() as pg_url:
            figures["postgresql"] = _fill_and_query(pg_url, record, results, folder,
                                                    config_text)
    except PostgresUnavailable as exc:
        figures["postgresql"] = {"error": str(exc)}
    return figures


def _fill_and_query(url: str, record: ScanRecord, results: Sequence[PositionResult],
                    folder: Path, config_text: str) -> dict[str, Any]:
    """Snapshots 1 and 10 written by the repository (timed); 2-9 are empty snapshots whose
    position rows are copied from snapshot 1 inside the database (fast to fill; the queries
    read snapshot 10, the latest)."""
    db.upgrade(url)
    repo = Repository(db.make_engine(url))
    writes = []
    for index in range(DB_SNAPSHOTS):
        scan = dataclasses.replace(record, block=record.block + index)
        real = index in (0, DB_SNAPSHOTS - 1)
        start = time.perf_counter()
        snapshot_id = repo.save_scan(scan, results if real else (), (), (), {}, None)
        if real:
            writes.append(time.perf_counter() - start)
            source = snapshot_id if index == 0 else None
        else:
            _copy_positions(repo, source, snapshot_id)
    rows = _position_rows(repo)
    repo.engine.dispose()
    kind = "sqlite" if url.startswith("sqlite") else "pg"
    config_path = folder / f"config-{kind}.toml"
    config_path.write_text(re.sub(r'(?m)^url = ".*"$', f'url = "{url}"', config_text, count=1))
    return {"rows": rows, "write_first_s": writes[0], "write_last_s": writes[-1],
            "bands_s": _command_seconds(config_path, ["bands"]),
            "positions_s": _command_seconds(config_path, ["positions"])}


def _scan_of(repo: Repository, snapshot_id: int | None) -> int:
    with repo.engine.connect() as conn:
        return int(conn.execute(text("SELECT id FROM scans WHERE snapshot_id = :s"),
                                {"s": snapshot_id}).scalar_one())


def _copy_positions(repo: Repository, source_snapshot: int | None, target_snapshot: int) -> None:
    columns = ", ".join(c.name for c in POSITIONS.columns if c.name not in ("id", "scan_id"))
    source, target = _scan_of(repo, source_snapshot), _scan_of(repo, target_snapshot)
    with repo.engine.begin() as conn:
        conn.execute(text(f"INSERT INTO positions (scan_id, {columns}) SELECT :target, "
                          f"{columns} FROM positions WHERE scan_id = :source"),
                     {"target": target, "source": source})


def _position_rows(repo: Repository) -> int:
    with repo.engine.connect() as conn:
        return int(conn.execute(text("SELECT COUNT(*) FROM positions")).scalar_one())


def _command_seconds(config_path: Path, argv: list[str], repeat: int = 3) -> float:
    """The command in this process, start-up excluded (median of `repeat`)."""
    from scanner.cli import build_parser, run

    args = build_parser().parse_args(["--config", str(config_path), *argv])
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            run(args)
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def _cli_startup(config_path: Path, repeat: int = 3) -> tuple[float, float]:
    """`liqscan bands` as a user runs it: a new interpreter, start to answer (median of the
    wall and of the process's CPU time, user + sys: steadier on a loaded machine)."""
    liqscan = Path(sys.executable).parent / "liqscan"
    seconds, cpu = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([str(liqscan), "--config", str(config_path), "bands"], check=True,
                       stdout=subprocess.DEVNULL)
        seconds.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(seconds), statistics.median(cpu)


@contextlib.contextmanager
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="liqscan-bench-") as folder:
        yield Path(folder)


