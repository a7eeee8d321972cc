"""The daemon's Prometheus metrics, as /metrics will serve them."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from scanner.daemon.metrics import DaemonMetrics
from scanner.daemon.stages import StageTimer
from tests.conftest import make_sample_scan


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_snapshot_metrics_in_prometheus_text() -> None:
    metrics = DaemonMetrics()
    scan = make_sample_scan(n_positions=8)
    metrics.observe_head("devnet", 110, 100)
    metrics.observe_snapshot("devnet", 100, scan.positions, scan.bands, {"http-5xx": 2}, 37)
    timer = StageTimer()
    for stage, done, total in (("m: resolve", 0, 0), ("m: discover", 3, 9), ("m: read", 0, 5),
                               ("m: read", 5, 5)):
        timer.progress(stage, done, total)
    for stage, seconds in timer.finish().items():
        metrics.stage_seconds.labels("devnet", stage).observe(seconds)
    samples = _samples(metrics.text())
    chain = (("chain", "devnet"),)
    assert samples[("liqscan_lag_blocks", chain)] == 10
    assert samples[("liqscan_rpc_requests_total", chain)] == 37
    assert samples[("liqscan_rpc_retries_total", (*chain, ("kind", "http-5xx")))] == 2
    assert samples[("liqscan_positions", (("axis", "ETH"), *chain,
                                          ("status", "liquidatable_now")))] == 2
    assert samples[("liqscan_liquidatable_now_collateral_usd", (("axis", "ETH"), *chain))] == (
        1_002 + 1_006)
    assert samples[("liqscan_top_band_collateral_usd", (("axis", "ETH"), *chain,
                                                        ("direction", "down")))] == 1e22
    stages = {dict(labels)["stage"] for name, labels in samples
              if name == "liqscan_snapshot_stage_seconds_count"}
    assert stages == {"resolve", "discover", "read", "compute_store", "total"}
