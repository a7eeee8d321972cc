"""One snapshot of a chain, as a recipe: pin one block -> for every configured market of the
chain: discover, read at that block -> liquidation prices -> histogram -> bands (summed across
markets) -> store the snapshot atomically.

A snapshot is whole or absent: if any market fails, nothing of the snapshot is written and the
error names the market. A position whose rule the protocol's own view contradicts (a mirror
mismatch) gets no price: the scan fails (exit 65) unless `store_unverified`, which stores such
positions with status `unverified`, outside every bin and band.

Only this module talks to both the chain and the database; the steps between are pure and
protocol-neutral (a protocol is reached only through the registry).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from scanner.chain.logs import confirmed_head
from scanner.chain.pin import confirm_pinned, pin_block
from scanner.chain.rpc import RpcClient
from scanner.chain.tasks import gather_or_cancel, in_order
from scanner.config import ChainConfig, Config, MarketConfig
from scanner.domain import (
    Address,
    Axis,
    Band,
    HistogramBin,
    MarketRead,
    PositionResult,
    ScanRecord,
    SnapshotRecord,
)
from scanner.errors import MirrorMismatchError, ScannerError, UsageError
from scanner.pipeline.axes import require_axes_listed, resolve_axes, snapshot_axes
from scanner.pipeline.bands import detect_bands
from scanner.pipeline.collector import collector_paused
from scanner.pipeline.discovery import DiscoveryPlan, plan_discovery
from scanner.pipeline.histogram import build_histogram
from scanner.pipeline.liquidation import liquidation_result, unverified_result
from scanner.pipeline.persist import store_snapshot
from scanner.pipeline.resolve import resolve_market
from scanner.pipeline.stream import LevelStream, Precomputed
from scanner.protocols import protocol_spec
from scanner.protocols.base import (
    Borrower,
    ChunkSink,
    PrefetchingAdapter,
    ProtocolAdapter,
    StreamingAdapter,
    SubmarketAdapter,
)
from scanner.store.repository import Repository

log = logging.getLogger(__name__)

# Called with (stage, done, total); total 0 means unknown.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Discovery:
    """Borrowers of one market up to the scan block."""

    borrowers: tuple[Borrower, ...]  # known + new, sorted
    discovered: dict[Borrower, int]  # new this scan -> first block seen
    plan: DiscoveryPlan  # the blocks searched, and the cursor and identity to store after

    @property
    def accounts(self) -> tuple[Address, ...]:
        return tuple(sorted({account for _submarket, account in self.borrowers}))

    @property
    def from_block(self) -> int | None:
        """First block of this scan's log search (None: none needed)."""
        return self.plan.from_block


@dataclass(frozen=True, repr=False)
class MarketOutcome:
    """One market's part of a snapshot. Its repr is a summary: the generated one spells out
    every position (megabytes for a large market), and asyncio.run formats it (see aio.py)."""

    record: ScanRecord
    read: MarketRead
    discovery: Discovery
    results: tuple[PositionResult, ...]
    axes: tuple[Axis, ...]  # resolved against this market's assets and prices

    @property
    def accounts_known(self) -> int:
        return len(self.discovery.borrowers)

    @property
    def accounts_new(self) -> int:
        return len(self.discovery.discovered)

    @property
    def accounts_with_debt(self) -> int:
        return len(self.read.positions)

    def __repr__(self) -> str:
        return (f"MarketOutcome({self.record.market_key!r}, block={self.record.block}, "
                f"positions={self.accounts_with_debt}, results={len(self.results)})")


@dataclass(frozen=True, repr=False)
class SnapshotOutcome:
    """A stored (or matched) snapshot. Its repr is a summary, as MarketOutcome's: asyncio.run
    (Python 3.11) formats the main task's result twice when it returns, and the generated
    repr of every position took seconds."""
    snapshot_id: int
    record: SnapshotRecord
    markets: tuple[MarketOutcome, ...]
    axes: tuple[Axis, ...]  # the snapshot's axes: price of the first market that has each
    results: tuple[PositionResult, ...]
    bins: tuple[HistogramBin, ...]
    bands: tuple[Band, ...]
    already_stored: bool = False  # the same block was scanned before; the snapshot matched
    scan_ids: dict[str, int] = field(default_factory=dict)  # market key -> stored scan id
    rpc_retries: dict[str, int] = field(default_factory=dict)  # retry kind -> count
    rpc_requests: int = 0  # JSON-RPC requests the snapshot took (the daemon's metrics)

    @property
    def accounts_known(self) -> int:
        return sum(m.accounts_known for m in self.markets)

    @property
    def accounts_new(self) -> int:
        return sum(m.accounts_new for m in self.markets)

    @property
    def accounts_with_debt(self) -> int:
        return sum(m.accounts_with_debt for m in self.markets)

    @property
    def mirror_mismatches(self) -> tuple[Address, ...]:
        return tuple(a for m in self.markets for a in m.read.mirror_mismatches)

    def __repr__(self) -> str:
        return (f"SnapshotOutcome(snapshot_id={self.snapshot_id}, chain={self.record.chain!r}, "
                f"block={self.record.block}, markets={list(self.markets)!r}, "
                f"bins={len(self.bins)}, bands={len(self.bands)}, "
                f"already_stored={self.already_stored})")


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


async def scan_chain(
    config: Config,
    markets: Sequence[MarketConfig],
    repo: Repository,
    block: int | None = None,
    progress: Progress = _no_progress,
    store_unverified: bool = False,
) -> SnapshotOutcome:
    """Scan `markets` (all of one chain) at one pinned block and store them as one snapshot,
    or raise (naming the market) and store nothing."""
    chains = {m.chain for m in markets}
    if len(chains) != 1:
        raise UsageError(f"one snapshot covers one chain; got markets of {sorted(chains)}")
    chain = config.chains[chains.pop()]
    with collector_paused():  # a snapshot makes no reference cycles (collector.py)
        return await _scan_chain(config, chain, markets, repo, block, progress, store_unverified)


async def _scan_chain(config: Config, chain: ChainConfig, markets: Sequence[MarketConfig],
                      repo: Repository, block: int | None, progress: Progress,
                      store_unverified: bool) -> SnapshotOutcome:
    with LevelStream(config.axes) as stream:
        async with RpcClient.for_chain(chain) as rpc:
            block = await checked_block(rpc, chain, block)
            pinned = await pin_block(rpc, block)  # reliability: its hash is checked at the end
            # 1-2. every market at exactly `block`, all at once; one failure leaves the
            # snapshot absent; a streaming adapter's chunks have their levels computed meanwhile
            reads = await gather_or_cancel([
                _read_verified(rpc, config, market, repo, block, progress, stream.sink(market.key),
                               store_unverified)
                for market in markets])
            await confirm_pinned(rpc, pinned)  # reliability: every read saw the same block
            rpc_retries = dict(rpc.stats.retries_by_kind)
            rpc_requests = rpc.stats.requests
        # 3-5. pure: liquidation prices -> bins -> bands, summed across markets
        outcome = compute_snapshot(config, chain, block, reads, stream.precomputed)
    # 6. store: the whole snapshot or nothing (persist.py)
    return dataclasses.replace(store_snapshot(repo, outcome, pinned), rpc_retries=rpc_retries,
                               rpc_requests=rpc_requests)


async def scan_market(
    config: Config,
    market: MarketConfig,
    repo: Repository,
    block: int | None = None,
    progress: Progress = _no_progress,
    store_unverified: bool = False,
) -> SnapshotOutcome:
    """A snapshot of one market alone (`liqscan scan --market KEY`)."""
    return await scan_chain(config, [market], repo, block, progress, store_unverified)


def _market_failed(market: MarketConfig, exc: ScannerError) -> ScannerError:
    """The same error (same exit code), naming the market and what was (not) written."""
    message = f"market {market.key}: {exc.message}"
    if "nothing was stored" not in message:
        message += " (the snapshot was not written: a snapshot holds every market or none)"
    try:
        return type(exc)(message)
    except TypeError:  # a subclass with another constructor: keep it as it is
        return exc


async def _read_verified(
    rpc: RpcClient, config: Config, market: MarketConfig, repo: Repository, block: int,
    progress: Progress, sink: ChunkSink, store_unverified: bool,
) -> tuple[MarketConfig, Discovery, MarketRead]:
    """One market's read, refused when its mirror is contradicted; errors name the market."""
    try:
        read = await _read_market(rpc, config, market, repo, block, progress, sink)
        _require_verified(read[2], store_unverified)
    except ScannerError as exc:
        raise _market_failed(market, exc) from exc
    return read


async def _read_market(
    rpc: RpcClient, config: Config, market: MarketConfig, repo: Repository, block: int,
    progress: Progress, sink: ChunkSink | None = None,
) -> tuple[MarketConfig, Discovery, MarketRead]:
    adapter = protocol_spec(market.protocol).adapter(rpc, market, config.chains[market.chain])
    progress(f"{market.key}: resolve", 0, 0)
    # at once: neither waits for the other's round trips; the plan's error is still the one
    # reported (it names a database that holds another market's accounts)
    plan, resolved = await in_order(plan_discovery(rpc, repo, config, market, block),
                                    resolve_market(adapter, config, market, block))
    prefetching = hasattr(adapter, "prefetch_market")
    if prefetching:  # its market state is read while the logs are searched
        cast(PrefetchingAdapter, adapter).prefetch_market(resolved, block)
    try:
        return await _read_discovered(adapter, config, market, repo, block, plan, resolved,
                                      progress, sink)
    finally:
        if prefetching:  # taken, or the read failed: nothing left running
            cast(PrefetchingAdapter, adapter).drop_prefetch()


async def _read_discovered(
    adapter: ProtocolAdapter, config: Config, market: MarketConfig, repo: Repository,
    block: int, plan: DiscoveryPlan, resolved: Any, progress: Progress,
    sink: ChunkSink | None,
) -> tuple[MarketConfig, Discovery, MarketRead]:
    discovery = await discover_market(adapter, resolved, market, repo, block, plan, progress)
    total = len(discovery.borrowers)
    progress(f"{market.key}: read", 0, total)
    if protocol_spec(market.protocol).per_submarket_discovery:  # each in its own submarket
        read = await cast(SubmarketAdapter, adapter).read_borrowers(
            resolved, discovery.borrowers, block)
        _hand_over_whole(read, sink)
    elif sink is not None and hasattr(adapter, "read_streaming"):
        read = await cast(StreamingAdapter, adapter).read_streaming(
            resolved, discovery.accounts, block, sink)
    else:
        read = await adapter.read(resolved, discovery.accounts, block)
        _hand_over_whole(read, sink)
    progress(f"{market.key}: read", total, total)
    if read.mirror_mismatches:
        log.info("%s: %d accounts differ from the protocol's own account data (revision %d): %s",
                 market.key, len(read.mirror_mismatches), read.revision,
                 ", ".join(read.mirror_mismatches[:5]))
    return market, discovery, read


def _hand_over_whole(read: MarketRead, sink: ChunkSink | None) -> None:
    """A market read in one piece goes to the level worker as one chunk: its math then runs
    while the other markets are still reading, instead of after the last read."""
    if sink is not None:
        sink(0, read.assets, read.positions, read.mirror_mismatches)


def _require_verified(read: MarketRead, store_unverified: bool) -> None:
    if not read.mirror_mismatches or store_unverified:
        return
    raise MirrorMismatchError(
        f"liqscan's health-factor mirror for pool revision {read.revision} disagrees with the "
        f"protocol's own account data at block {read.block} for "
        f"{len(read.mirror_mismatches)} of {len(read.positions)} accounts "
        f"(e.g. {min(read.mirror_mismatches)}); nothing was stored. Rerun with "
        "--store-unverified to store them flagged unverified, without prices, outside bins "
        "and bands"
    )


async def discover_market(
    adapter: ProtocolAdapter, resolved: Any, market: MarketConfig, repo: Repository,
    block: int, plan: DiscoveryPlan, progress: Progress,
) -> Discovery:
    """Every borrower of `market` up to `block`: known accounts + new logs in the blocks the
    plan (discovery.py) says were not searched yet, so that no borrower is ever lost."""
    known = {k: b for k, b in repo.known_borrowers(market.key).items() if b <= block}
    new: dict[Borrower, int] = {}
    if plan.from_block is not None:
        new = await _discover(adapter, resolved, market, plan.from_block, block, progress)
    discovered = {k: b for k, b in new.items() if k not in known}
    return Discovery(borrowers=tuple(sorted(set(known) | set(new))), discovered=discovered,
                     plan=plan)


async def _discover(adapter: ProtocolAdapter, resolved: Any, market: MarketConfig,
                    start: int, block: int, progress: Progress) -> dict[Borrower, int]:
    def on_progress(done: int, total: int) -> None:
        progress(f"{market.key}: discover", done, total)

    if protocol_spec(market.protocol).per_submarket_discovery:
        return await cast(SubmarketAdapter, adapter).discover_borrowers(
            resolved, start, block, on_progress=on_progress)
    found = await adapter.discover_accounts(resolved, start, block, on_progress=on_progress)
    return {("", account): first for account, first in found.items()}


async def checked_block(rpc: RpcClient, chain: ChainConfig, block: int | None) -> int:
    """The chain's id checked and the block pinned, at once (one round trip, not two); a
    wrong chain id is the error reported, whatever the head says."""
    _, pinned = await in_order(rpc.check_chain(chain.chain_id, chain.name),
                               _pin_block(rpc, chain, block))
    return pinned


async def _pin_block(rpc: RpcClient, chain: ChainConfig, block: int | None) -> int:
    """The block every read of this scan uses: the one asked for, else head - confirmations."""
    head = await rpc.block_number()
    if block is None:
        return confirmed_head(head, chain.confirmations)
    if block < 0 or block > head:
        raise UsageError(f"--block {block} is outside the chain (head is {head})")
    return block


# --- pure ---------------------------------------------------------------------------------


def compute_snapshot(
    config: Config, chain: ChainConfig, block: int,
    reads: Sequence[tuple[MarketConfig, Discovery, MarketRead]],
    precomputed: Callable[[str, int], Precomputed] | None = None,
) -> SnapshotOutcome:
    """Liquidation levels of every market, then bins and bands over all of them.
    `precomputed(market key, positions)`: levels already computed while reading (stream.py)."""
    require_axes_listed(config.axes, [(market.key, read.assets) for market, _, read in reads])
    per_market = [resolve_axes(config.axes, read.assets) for _, _, read in reads]
    axes = snapshot_axes(per_market, config.axes, [market.key for market, _, _ in reads])
    axis_price_8dec = {axis.name: axis.reference_price_8dec for axis in axes}
    markets = []
    for (market, discovery, read), market_axes in zip(reads, per_market, strict=True):
        ready = precomputed(market.key, len(read.positions)) if precomputed else None
        results = liquidation_results(read, market_axes, axis_price_8dec, ready)
        record = ScanRecord(
            chain=chain.name, chain_id=chain.chain_id, market_key=market.key,
            protocol=market.protocol, block=block, block_timestamp=read.block_timestamp,
            pool_revision=read.revision,
        )
        markets.append(MarketOutcome(record, read, discovery, tuple(results), tuple(market_axes)))
    results = [r for m in markets for r in m.results]
    bins, bands = histogram_and_bands(results, axes, config)
    timestamp = reads[0][2].block_timestamp if reads else 0
    snapshot = SnapshotRecord(chain=chain.name, chain_id=chain.chain_id, block=block,
                              block_timestamp=timestamp,
                              markets=tuple(m.record for m in markets))
    return SnapshotOutcome(snapshot_id=0, record=snapshot, markets=tuple(markets),
                           axes=tuple(axes), results=tuple(results), bins=tuple(bins),
                           bands=tuple(bands))


def liquidation_results(
    read: MarketRead, axes: Sequence[Axis], axis_price_8dec: dict[str, int] | None = None,
    precomputed: Precomputed | None = None,
) -> list[PositionResult]:
    """Every position of `read` on every axis of its market; a position the protocol's own
    view contradicts is `unverified` (no price, outside bins and bands). An axis whose levels
    `precomputed` holds for the same axis at the same price takes them as they are."""
    unverified = set(read.mirror_mismatches)
    results: list[PositionResult] = []
    for axis in axes:
        now = (axis_price_8dec or {}).get(axis.name)
        ready_axis, ready = (precomputed or {}).get(axis.name, (None, None))
        if ready is not None and ready_axis == axis and now in (None, axis.reference_price_8dec):
            results += ready
            continue
        for position in read.positions:
            if position.account in unverified:
                results.append(unverified_result(position, axis, now))
            elif (result := liquidation_result(position, axis, now)) is not None:
                results.append(result)
    return results


def histogram_and_bands(
    results: Sequence[PositionResult], axes: Sequence[Axis], config: Config
) -> tuple[list[HistogramBin], list[Band]]:
    bins: list[HistogramBin] = []
    bands: list[Band] = []
    hist = config.histogram
    for axis in axes:
        on_axis = [r for r in results if r.axis == axis.name]
        bins += build_histogram(
            on_axis, axis.name, axis.reference_price_8dec,
            mode=_histogram_mode(hist.mode), bin_bps=hist.bin_bps,
            bin_width_8dec=round(hist.bin_width_usd * 10**8), range_bps=hist.range_bps,
        )
        bands += detect_bands(on_axis, axis.name, axis.reference_price_8dec,
                              max_bands=config.bands.max_bands, params=config.bands.params)
    return bins, bands


def _histogram_mode(mode: str) -> Literal["log", "linear"]:
    return "linear" if mode == "linear" else "log"  # config.py accepts only these two
