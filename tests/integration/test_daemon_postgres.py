"""Daemons on one PostgreSQL database: two share the devnet chain (one scans, one stands by)
and the survivor takes over when the other is killed; kills inside the snapshot's write
transaction leave it whole (SIGTERM: the write finishes) or absent (SIGKILL)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from scanner.config import load_config
from scanner.devnet.network import Devnet
from scanner.devnet.rpc import DevnetRpc
from scanner.store.db import make_engine
from scanner.store.repository import Repository
from tests.integration.crash_helpers import postgres_bands_locked
from tests.integration.daemon_helpers import (
    DaemonProcess,
    assert_every_snapshot_whole,
    daemon_config,
    reap_daemons,
)

__all__ = ["reap_daemons"]  # the autouse fixture, imported to apply here
pytestmark = [pytest.mark.integration, pytest.mark.postgres]
HOLDS = "daemon holds chain devnet"


@pytest.mark.parametrize("db_backend", ["postgresql"])
def test_two_daemons_never_scan_the_same_block_and_one_takes_over(
    devnet: Devnet, devnet_snapshot: DevnetRpc, tmp_path: Path, db_url: str
) -> None:
    rpc = devnet_snapshot
    config = daemon_config(devnet, tmp_path, db_url)
    repo = Repository(make_engine(load_config(config).database_url))
    first = DaemonProcess(config, tmp_path / "first.log")
    first.wait_for_log(HOLDS)
    first.wait_for_snapshot(rpc.block_number())
    second = DaemonProcess(config, tmp_path / "second.log")
    second.wait_for_log("scanned by another daemon: standing by")
    rpc.mine()
    first.wait_for_snapshot(rpc.block_number())
    assert HOLDS not in second.log() and second.snapshot_blocks() == []

    assert first.stop(signal.SIGKILL) == -signal.SIGKILL
    second.wait_for_log(HOLDS)  # the dead daemon's session ended: its lock with it
    rpc.mine()
    second.wait_for_snapshot(rpc.block_number())
    assert second.stop() == 0

    by_first, by_second = first.snapshot_blocks(), second.snapshot_blocks()
    assert not set(by_first) & set(by_second)
    assert max(by_first) < min(by_second)
    assert assert_every_snapshot_whole(repo) == sorted(by_first + by_second)


@pytest.mark.parametrize("db_backend", ["postgresql"])
def test_kills_inside_the_write_transaction_leave_the_snapshot_whole_or_absent(
    devnet: Devnet, devnet_snapshot: DevnetRpc, tmp_path: Path, db_url: str
) -> None:
    rpc = devnet_snapshot
    config = daemon_config(devnet, tmp_path, db_url)
    engine = make_engine(db_url)
    repo = Repository(engine)
    log = tmp_path / "daemon.log"
    daemon = DaemonProcess(config, log)
    start = rpc.block_number()
    daemon.wait_for_snapshot(start)

    with postgres_bands_locked(engine) as in_write_transaction:
        rpc.mine()  # the snapshot of start + 1 blocks on INSERT INTO bands
        daemon.wait_for(in_write_transaction, "the write transaction")
        assert daemon.stop(signal.SIGKILL) == -signal.SIGKILL
    assert assert_every_snapshot_whole(repo) == [start]  # SIGKILL: absent

    daemon = DaemonProcess(config, log)
    daemon.wait_for_snapshot(start + 1)  # the next run takes the block the killed one lost
    with postgres_bands_locked(engine) as in_write_transaction:
        rpc.mine()
        daemon.wait_for(in_write_transaction, "the write transaction")
        os.kill(daemon.process.pid, signal.SIGTERM)
    assert daemon.stop() == 0  # SIGTERM: the write in flight completes, then it stops
    assert assert_every_snapshot_whole(repo) == [start, start + 1, start + 2]
    engine.dispose()
