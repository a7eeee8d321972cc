"""The daemon's Prometheus metrics (prometheus_client), on a registry of its own.

Served at /metrics by the HTTP app through `LiveStatus.metrics_text()`. USD amounts are floats
here (Prometheus has no other number type); the database keeps the exact values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from scanner.domain import Band, PositionResult, PositionStatus

_STAGE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


class DaemonMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.stage_seconds = Histogram(
            "liqscan_snapshot_stage_seconds", "Time spent per snapshot stage",
            ["chain", "stage"], buckets=_STAGE_BUCKETS, registry=r)
        self.snapshots = Counter("liqscan_snapshots", "Snapshots stored", ["chain"], registry=r)
        self.positions = Gauge("liqscan_positions", "Positions of the newest snapshot",
                               ["chain", "axis", "status"], registry=r)
        self.rpc_requests = Counter("liqscan_rpc_requests", "JSON-RPC requests of snapshots",
                                    ["chain"], registry=r)
        self.rpc_retries = Counter("liqscan_rpc_retries", "JSON-RPC retries by kind",
                                   ["chain", "kind"], registry=r)
        self.errors = Counter("liqscan_errors", "Failed snapshot or head attempts by kind",
                              ["chain", "kind"], registry=r)
        self.head_block = Gauge("liqscan_head_block", "Newest head seen", ["chain"], registry=r)
        self.snapshot_block = Gauge("liqscan_last_snapshot_block", "Block of the newest "
                                    "snapshot", ["chain"], registry=r)
        self.lag_blocks = Gauge("liqscan_lag_blocks", "Head minus the newest snapshot's block",
                                ["chain"], registry=r)
        self.top_band_usd = Gauge("liqscan_top_band_collateral_usd", "Collateral of the "
                                  "largest band", ["chain", "axis", "direction"], registry=r)
        self.liquidatable_now_usd = Gauge("liqscan_liquidatable_now_collateral_usd",
                                          "Collateral liquidatable now", ["chain", "axis"],
                                          registry=r)
        self.alerts = Counter("liqscan_alerts_fired", "Alert conditions that fired",
                              ["chain", "rule"], registry=r)
        self.webhook_posts = Counter("liqscan_webhook_posts", "Webhook POSTs by outcome",
                                     ["outcome"], registry=r)
        self.chain_held = Gauge("liqscan_chain_lock_held", "1 while this daemon scans the "
                                "chain (holds its lock)", ["chain"], registry=r)
        self.pruned = Counter("liqscan_snapshots_pruned", "Snapshots deleted by retention",
                              ["chain"], registry=r)
        self.snapshots_by_mode = Counter(
            "liqscan_snapshots_by_mode", "Snapshots taken incrementally or in full",
            ["chain", "mode"], registry=r)

    def text(self) -> str:
        return generate_latest(self.registry).decode()

    def observe_head(self, chain: str, head: int, last_snapshot_block: int | None) -> None:
        self.head_block.labels(chain).set(head)
        if last_snapshot_block is not None:
            self.lag_blocks.labels(chain).set(head - last_snapshot_block)

    def observe_snapshot(self, chain: str, block: int, results: Sequence[PositionResult],
                         bands: Sequence[Band], retries: Mapping[str, int],
                         rpc_requests: int) -> None:
        self.snapshots.labels(chain).inc()
        self.snapshot_block.labels(chain).set(block)
        self.rpc_requests.labels(chain).inc(rpc_requests)
        for kind, count in retries.items():
            self.rpc_retries.labels(chain, kind).inc(count)
        counts: dict[tuple[str, str], int] = {}
        liquidatable: dict[str, int] = {}
        for r in results:
            counts[(r.axis, r.status.value)] = counts.get((r.axis, r.status.value), 0) + 1
            if r.status == PositionStatus.LIQUIDATABLE_NOW:
                liquidatable[r.axis] = liquidatable.get(r.axis, 0) + r.collateral_usd_8dec
            liquidatable.setdefault(r.axis, 0)
        for (axis, status), n in counts.items():
            self.positions.labels(chain, axis, status).set(n)
        for axis, total_8dec in liquidatable.items():
            self.liquidatable_now_usd.labels(chain, axis).set(total_8dec / 1e8)
        for band in bands:
            if band.rank == 1:
                self.top_band_usd.labels(chain, band.axis, band.direction.value).set(
                    band.collateral_usd_8dec / 1e8)
