"""Liquidation levels computed while the reads go on: a streaming adapter hands each chunk of
positions over as soon as it is read (scanner.protocols.base.ChunkSink), and one worker thread
computes their levels while the event loop keeps the node busy with the next chunks. The node
and the math then run at the same time instead of one after the other.

A chunk's levels use the axis price of its own market (the market's oracle). compute_snapshot
takes them only where that is also the snapshot's price for the axis; any other axis of that
market is computed again at the end, so a result is the same as without streaming. Nothing
here stores anything: a failed read still leaves the snapshot absent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from types import TracebackType

from scanner.config import AxisConfig
from scanner.domain import Address, Asset, Axis, Position, PositionResult
from scanner.errors import ScannerError
from scanner.pipeline.axes import resolve_axes
from scanner.pipeline.liquidation import liquidation_result, unverified_result
from scanner.protocols.base import ChunkSink

# axis name -> (the axis the levels were computed on, the levels in read order)
Precomputed = dict[str, tuple[Axis, list[PositionResult]]]
ChunkLevels = dict[str, list[PositionResult]]


def chunk_levels(positions: Sequence[Position], axes: Sequence[Axis],
                 unverified: frozenset[Address]) -> ChunkLevels:
    """Each axis's levels of `positions` at the axis's own price (as liquidation_results)."""
    levels: ChunkLevels = {}
    for axis in axes:
        on_axis = levels[axis.name] = []
        for position in positions:
            if position.account in unverified:
                on_axis.append(unverified_result(position, axis))
            elif (result := liquidation_result(position, axis)) is not None:
                on_axis.append(result)
    return levels


@dataclass
class _Market:
    axes: tuple[Axis, ...] | None = None
    chunks: dict[int, Future[ChunkLevels]] = field(default_factory=dict)
    positions: int = 0  # handed over so far
    usable: bool = True  # False: its axes could not be resolved; compute_snapshot decides


class LevelStream:
    """One snapshot's worker thread and the levels it computed, per market key.

        with LevelStream(config.axes) as stream:
            read = await adapter.read_streaming(resolved, accounts, block, stream.sink(key))
            ...
            compute_snapshot(config, chain, block, reads, stream.precomputed)
    """

    def __init__(self, axes_config: Mapping[str, AxisConfig]) -> None:
        self._axes_config = axes_config
        self._markets: dict[str, _Market] = {}
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="liqscan-levels")

    def __enter__(self) -> LevelStream:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        # a failed snapshot keeps nothing: chunks not started are dropped
        self._pool.shutdown(wait=True, cancel_futures=True)

    def sink(self, market_key: str) -> ChunkSink:
        market = self._markets[market_key] = _Market()

        def take(index: int, assets: tuple[Asset, ...], positions: Sequence[Position],
                 mismatches: Sequence[Address]) -> None:
            if market.axes is None and market.usable:
                try:
                    market.axes = tuple(resolve_axes(self._axes_config, assets))
                except ScannerError:  # compute_snapshot raises it, naming the market
                    market.usable = False
            if market.axes is not None:
                market.positions += len(positions)
                market.chunks[index] = self._pool.submit(
                    chunk_levels, tuple(positions), market.axes, frozenset(mismatches))
        return take

    def precomputed(self, market_key: str, positions: int) -> Precomputed:
        """The market's levels per axis, chunks joined in order; {} unless every one of the
        read's `positions` was handed over, in chunks 0, 1, 2, ... A failure of the math
        re-raises here, as it would have without streaming."""
        market = self._markets.get(market_key)
        if (market is None or market.axes is None or market.positions != positions
                or sorted(market.chunks) != list(range(len(market.chunks)))):
            return {}
        chunks = [market.chunks[i].result() for i in sorted(market.chunks)]
        return {axis.name: (axis, [r for chunk in chunks for r in chunk[axis.name]])
                for axis in market.axes}
