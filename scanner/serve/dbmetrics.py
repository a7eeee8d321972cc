"""What the database tells /metrics and /healthz: the latest complete snapshot of each chain.

    states = read_state(repo, summaries)        # the latest snapshot of each chain (worker thread)
    text = metrics_text(states, now_unix)       # Prometheus text, prometheus_client's encoder

The daemon's own counters (scan durations, RPC requests, retries) come from its LiveStatus;
these gauges are what any reader of the database can know, so `liqscan serve` has them too.
Names start with `liqscan_db_` so they never collide with the daemon's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from scanner.domain import Band
from scanner.serve.summaries import Summaries
from scanner.store.reads import AxisSummary, LiquidatableNow
from scanner.store.repository import Repository, StoredSnapshot

USD_PER_8DEC = 1e-8  # display only: a gauge is a float


@dataclass(frozen=True)
class ChainState:
    """The latest complete snapshot of one chain, its axes and its top band per direction."""

    snapshot: StoredSnapshot
    axes: list[AxisSummary]
    top_bands: list[Band]
    liquidatable: LiquidatableNow


def latest_snapshots(repo: Repository) -> list[StoredSnapshot]:
    """The latest complete snapshot of each chain (headers only: what /healthz needs)."""
    ids = [repo.latest_snapshot_id(chain) for chain in repo.chains()]
    return [repo.get_snapshot(i) for i in ids if i is not None]  # None: deleted meanwhile


def read_state(repo: Repository, summaries: Summaries) -> list[ChainState]:
    states = []
    for snapshot in latest_snapshots(repo):
        summary = summaries.of(snapshot.snapshot_id)
        bands = [b for b in repo.load_bands(snapshot.snapshot_id) if b.rank == 1]
        states.append(ChainState(snapshot, summary.axes, bands, summary.liquidatable))
    return states


def age_seconds(snapshot: StoredSnapshot, now_unix: float) -> float:
    """Seconds since the snapshot was stored (not since its block: devnets warp time)."""
    return max(0.0, now_unix - snapshot.created_at.timestamp())


class _StateCollector(Collector):
    def __init__(self, states: list[ChainState], now_unix: float) -> None:
        self.states = states
        self.now_unix = now_unix

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from self._snapshot_families()
        yield from self._axis_families()
        yield from self._band_families()

    def _snapshot_families(self) -> Iterator[GaugeMetricFamily]:
        block = _gauge("snapshot_block", "Block of the latest complete snapshot", ["chain"])
        stamp = _gauge("snapshot_block_timestamp_seconds",
                       "Block timestamp of the latest complete snapshot", ["chain"])
        age = _gauge("snapshot_age_seconds",
                     "Seconds since the latest complete snapshot was stored", ["chain"])
        positions = _gauge("snapshot_positions",
                           "Position rows (account x axis) in the latest snapshot", ["chain"])
        now = _gauge("liquidatable_now_total_collateral_usd",
                     "Collateral liquidatable now, each position once across its axes",
                     ["chain"])
        for state in self.states:
            record, chain = state.snapshot.record, [state.snapshot.record.chain]
            block.add_metric(chain, record.block)
            stamp.add_metric(chain, record.block_timestamp)
            age.add_metric(chain, age_seconds(state.snapshot, self.now_unix))
            positions.add_metric(chain, state.snapshot.position_count)
            now.add_metric(chain, state.liquidatable.collateral_usd_8dec * USD_PER_8DEC)
        yield from (block, stamp, age, positions, now)

    def _axis_families(self) -> Iterator[GaugeMetricFamily]:
        labels = ["chain", "axis"]
        price = _gauge("axis_price_usd", "Axis reference price at the snapshot block", labels)
        now_usd = _gauge("liquidatable_now_collateral_usd",
                         "Collateral of positions liquidatable at the snapshot's prices", labels)
        now_n = _gauge("liquidatable_now_positions",
                       "Positions liquidatable at the snapshot's prices", labels)
        for state in self.states:
            for a in state.axes:
                key = [state.snapshot.record.chain, a.axis]
                price.add_metric(key, a.price_now_8dec * USD_PER_8DEC)
                now_usd.add_metric(key, a.liquidatable_now_collateral_usd_8dec * USD_PER_8DEC)
                now_n.add_metric(key, a.liquidatable_now_positions)
        yield from (price, now_usd, now_n)

    def _band_families(self) -> Iterator[GaugeMetricFamily]:
        labels = ["chain", "axis", "direction"]
        families = {
            "collateral": _gauge("top_band_collateral_usd",
                                 "Collateral in the largest band of the axis", labels),
            "low": _gauge("top_band_low_usd", "Lowest liquidation price in the top band", labels),
            "high": _gauge("top_band_high_usd", "Highest liquidation price in the top band",
                           labels),
            "distance": _gauge("top_band_distance_bps",
                               "Distance from the price now to the near edge of the top band",
                               labels),
        }
        for state in self.states:
            for band in state.top_bands:
                key = [state.snapshot.record.chain, band.axis, str(band.direction)]
                near = (band.distance_high_bps if str(band.direction) == "down"
                        else band.distance_low_bps)
                families["collateral"].add_metric(key, band.collateral_usd_8dec * USD_PER_8DEC)
                families["low"].add_metric(key, band.low_8dec * USD_PER_8DEC)
                families["high"].add_metric(key, band.high_8dec * USD_PER_8DEC)
                families["distance"].add_metric(key, abs(near))
        yield from families.values()


def _gauge(name: str, documentation: str, labels: list[str]) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"liqscan_db_{name}", documentation, labels=labels)


def metrics_text(states: list[ChainState], now_unix: float) -> str:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_StateCollector(states, now_unix))
    return generate_latest(registry).decode()
