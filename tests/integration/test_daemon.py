"""`liqscan daemon` against the devnet (a real anvil, heads over its WebSocket): it follows new
blocks, a price move toward a band fires exactly one webhook (through a failed first attempt),
a restart sends no duplicate, SIGTERM mid-snapshot leaves nothing partial."""

from __future__ import annotations

import re
import signal
from pathlib import Path

import pytest
from sqlalchemy import select

from scanner.config import load_config
from scanner.daemon.retention import snapshots_to_delete
from scanner.daemon.settings import RetentionPolicy
from scanner.devnet.network import Devnet
from scanner.devnet.rpc import DevnetRpc
from scanner.store.daemon_state import EVENTS, SnapshotAge
from scanner.store.repository import Repository
from tests.fault_proxy import FaultProxy
from tests.integration.daemon_helpers import (
    DaemonProcess,
    WebhookReceiver,
    assert_every_snapshot_whole,
    daemon_config,
    free_port,
    http_get,
    move_eth_axis,
    reap_daemons,
)
from tests.integration.fault_helpers import fresh_sqlite
from tests.integration.scan_helpers import fresh_repo

__all__ = ["reap_daemons"]  # the autouse fixture, imported to apply here
pytestmark = pytest.mark.integration
# The devnet's planted WETH cluster is a ~$4.6M band at $2,287-$2,395; ETH is at $3,000.
RATIO_AXIS = """
[axes.wstETH-ETH]
members = ["wstETH"]
quote = ["WETH"]
"""
ALERTS = """
[daemon.alerts]
webhooks = ["{url}"]
near_band_bps = 300
near_band_min_usd = 2000000
webhook_max_attempts = 5
"""


def _fired(repo: Repository) -> list[tuple[str, str]]:
    with repo.engine.connect() as conn:
        return [(k, c) for k, c in conn.execute(
            select(EVENTS.c.kind, EVENTS.c.condition_key).order_by(EVENTS.c.id))]


def _check_http(port: int, head: int) -> None:
    """The HTTP app runs on the daemon's loop: /healthz knows the head, /metrics the
    daemon's own counters beside the database's."""
    status, health = http_get(port, "/healthz")
    assert status == 200 and health["status"] == "ok"
    assert (health["head"]["head_block"], health["head"]["last_snapshot_block"]) == (head, head)
    assert health["head"]["lag_blocks"] == 0
    status, metrics = http_get(port, "/metrics")
    assert status == 200
    assert 'liqscan_lag_blocks{chain="devnet"} 0.0' in metrics
    assert 'liqscan_chain_lock_held{chain="devnet"} 1.0' in metrics
    assert "liqscan_snapshot_stage_seconds_count" in metrics and "liqscan_db_" in metrics
    status, snapshots = http_get(port, "/api/snapshots")
    assert status == 200 and head in [s["block"] for s in snapshots["snapshots"]]
    status, page = http_get(port, "/")  # the web page, and the chart library it loads
    assert status == 200 and "<title>liqscan: liquidation map</title>" in page
    for asset in re.findall(r'src="([^"]+\.js)"', page):
        assert http_get(port, asset if asset.startswith("/") else f"/{asset}")[0] == 200, asset
    # the daemon's app knows the config's axis units: a ratio axis's prices count its quote
    status, ratio = http_get(port, "/api/histogram?axis=wstETH-ETH")
    assert status == 200 and ratio["bins"]
    assert {b["axis_unit"] for b in ratio["bins"]} == {"WETH"}


def test_daemon_follows_heads_and_alerts_once_across_a_restart(
    devnet: Devnet, devnet_snapshot: DevnetRpc, tmp_path: Path
) -> None:
    rpc = devnet_snapshot
    with WebhookReceiver(fail_first=1).running() as hook:
        config = daemon_config(devnet, tmp_path, fresh_sqlite(tmp_path, "daemon"),
                               ALERTS.format(url=hook.url))
        text = config.read_text()
        config.write_text(text.replace("\n[daemon]\n", f"{RATIO_AXIS}\n[daemon]\n", 1))
        repo = fresh_repo(load_config(config))
        port = free_port()
        daemon = DaemonProcess(config, tmp_path / "daemon.log", "--http", f"127.0.0.1:{port}")
        daemon.wait_for_snapshot(rpc.block_number())
        rpc.mine()  # it follows new heads
        daemon.wait_for_snapshot(rpc.block_number())
        _check_http(port, rpc.block_number())
        assert hook.received == []  # $3,000 is 20% above the band

        near = move_eth_axis(devnet, rpc, 2_450)  # 2.3% above the band's top
        daemon.wait_for_snapshot(near)
        daemon.wait_for(lambda: len(hook.accepted) == 1, "the alert webhook")
        rpc.mine()
        daemon.wait_for_snapshot(rpc.block_number())  # still near: no second message
        assert daemon.stop() == 0
        assert "daemon stopped (SIGTERM)" in daemon.log()

        restarted = DaemonProcess(config, tmp_path / "daemon.log")
        rpc.mine()
        restarted.wait_for_snapshot(rpc.block_number())
        assert restarted.stop() == 0

    (message,) = hook.accepted
    assert len(hook.received) == 2 and hook.received[0] == message  # one retry, one message
    assert (message["rule"], message["axis"], message["direction"]) == ("near_band", "ETH",
                                                                          "down")
    # anvil_setStorageAt edits the head's state in place: a daemon reading the empty block
    # set_prices mines first, after the write, already sees the new price there
    assert near - 1 <= message["block"] <= near
    assert message["axis_price_usd"] == "2450.00000000"
    assert 2_200 < float(message["band"]["low_usd"]) < float(message["band"]["high_usd"]) < 2_450
    assert _fired(repo) == [("fired", "near_band:ETH:down")]
    blocks = assert_every_snapshot_whole(repo)
    assert near in blocks and len(blocks) >= 5


def test_sigterm_while_reading_leaves_no_snapshot_and_the_next_run_takes_it(
    devnet: Devnet, devnet_snapshot: DevnetRpc, tmp_path: Path
) -> None:
    rpc = devnet_snapshot
    proxy = FaultProxy(devnet.rpc_url, rate=0.0, kinds=("hang",), hold_seconds=120)
    with proxy.in_thread():
        config = daemon_config(devnet, tmp_path, fresh_sqlite(tmp_path, "sigterm"),
                               rpc_url=proxy.url, chain_toml="request_timeout_seconds = 120")
        repo = fresh_repo(load_config(config))
        daemon = DaemonProcess(config, tmp_path / "daemon.log")
        first = rpc.block_number()
        daemon.wait_for_snapshot(first)
        proxy.rate = 1.0  # every request of the next snapshot is held: it stays in flight
        rpc.mine()
        daemon.wait_for(lambda: proxy.injected["hang"] > 0, "the next snapshot in flight")
        assert daemon.stop(signal.SIGTERM) == 0
        assert assert_every_snapshot_whole(repo) == [first]

        proxy.rate = 0.0
        again = DaemonProcess(config, tmp_path / "daemon.log")
        again.wait_for_snapshot(first + 1)
        assert again.stop(signal.SIGINT) == 0
    assert assert_every_snapshot_whole(repo) == [first, first + 1]


def test_polling_daemon_backs_off_while_the_rpc_is_down_and_recovers(
    devnet: Devnet, devnet_snapshot: DevnetRpc, tmp_path: Path
) -> None:
    rpc = devnet_snapshot
    proxy = FaultProxy(devnet.rpc_url, rate=0.0, kinds=("http-503-html",))
    with proxy.in_thread():
        config = daemon_config(devnet, tmp_path, fresh_sqlite(tmp_path, "down"),
                               rpc_url=proxy.url, chain_toml="max_retries = 1",
                               websocket=False)
        repo = fresh_repo(load_config(config))
        daemon = DaemonProcess(config, tmp_path / "daemon.log")
        first = rpc.block_number()
        daemon.wait_for_snapshot(first)
        proxy.rate = 1.0  # the node answers nothing but 503s
        rpc.mine(3)
        daemon.wait_for(lambda: daemon.log().count("following heads failed") >= 2,
                        "two failed head polls")
        proxy.rate = 0.0
        daemon.wait_for_snapshot(first + 3)
        assert daemon.stop() == 0
    assert "rpc-head error" in daemon.log()
    # no backlog: the blocks mined while the node was down are skipped for the newest
    assert assert_every_snapshot_whole(repo) == [first, first + 3]


def test_retention_prunes_what_the_policy_lets_go(
    devnet: Devnet, devnet_snapshot: DevnetRpc, tmp_path: Path
) -> None:
    rpc = devnet_snapshot
    config = daemon_config(devnet, tmp_path, fresh_sqlite(tmp_path, "retention"),
                           "[daemon.retention]\nkeep_all_hours = 0\nkeep_hourly_days = 0\n")
    repo = fresh_repo(load_config(config))
    daemon = DaemonProcess(config, tmp_path / "daemon.log")
    daemon.wait_for_snapshot(rpc.block_number())
    for _ in range(3):
        # a minute apart: blocks mined within one wall-clock second share a timestamp, and a
        # snapshot as old as the newest is kept (age 0 <= keep_all_hours) -- on a fast run
        # nothing was left to prune and the test failed
        rpc.call("evm_increaseTime", [60])
        rpc.mine()
        daemon.wait_for_snapshot(rpc.block_number())
    assert daemon.stop() == 0
    logged = daemon.snapshot_blocks()
    ages = [SnapshotAge(i, b, int(rpc.call("eth_getBlockByNumber", [hex(b), False])["timestamp"],
                                   16)) for i, b in enumerate(logged)]
    doomed = {logged[i] for i in snapshots_to_delete(ages, RetentionPolicy(0, 0, 0))}
    assert doomed  # all in one day: only the day's first and the newest stay
    assert assert_every_snapshot_whole(repo) == sorted(set(logged) - doomed)
