"""Crash safety of the daemon (issue 8, item 5): `liqscan daemon` killed with SIGKILL 20 times per
database (SQLite and PostgreSQL) at random moments -- starting, following the head, reading,
writing -- never leaves a partial snapshot, and the next daemon's snapshot of the head is
identical to a clean scan of that block."""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

import pytest

from scanner.config import load_config
from scanner.devnet.network import Devnet
from scanner.devnet.rpc import DevnetRpc
from scanner.store.repository import Repository
from tests.integration.daemon_helpers import (
    DaemonProcess,
    assert_every_snapshot_whole,
    daemon_config,
    reap_daemons,
)
from tests.integration.fault_helpers import fresh_sqlite, stored_snapshot
from tests.integration.scan_helpers import fresh_repo, scan

__all__ = ["reap_daemons"]  # the autouse fixture, imported to apply here
pytestmark = pytest.mark.integration
KILLS = 20


def _clean_snapshot(devnet: Devnet, folder: Path, block: int) -> object:
    folder.mkdir()
    config = load_config(daemon_config(devnet, folder, fresh_sqlite(folder, "clean")))
    repo = fresh_repo(config)
    return stored_snapshot(repo, scan(config, repo, block).snapshot_id)


def test_sigkill_at_random_points_never_leaves_a_partial_snapshot(
    devnet: Devnet, devnet_snapshot: DevnetRpc, tmp_path: Path, db_url: str
) -> None:
    rpc = devnet_snapshot
    config = daemon_config(devnet, tmp_path, db_url)
    repo = Repository.from_url(db_url)
    log = tmp_path / "daemon.log"
    started = time.monotonic()
    first = DaemonProcess(config, log)
    first.wait_for_snapshot(rpc.block_number())
    start_to_snapshot_seconds = time.monotonic() - started  # to spread the kills over it
    first.stop(signal.SIGKILL)

    rng = random.Random(20261130)
    killed_heads = []
    for kill in range(KILLS):
        rpc.mine()  # a new head: each daemon has a snapshot to take as soon as it runs
        head = rpc.block_number()
        killed_heads.append(head)
        daemon = DaemonProcess(config, log)
        # a third at once (before any write), a third at a random moment of start-up and
        # snapshot, a third once its snapshot is stored: the kills cover every phase whatever
        # the machine's speed
        if kill % 3 == 1:
            time.sleep(rng.uniform(0.0, start_to_snapshot_seconds))
        elif kill % 3 == 2:
            daemon.wait_for_snapshot(head)
            time.sleep(rng.uniform(0.0, 0.5))
        daemon.stop(signal.SIGKILL)
        assert_every_snapshot_whole(repo)  # none partial, whatever the moment
    stored = set(assert_every_snapshot_whole(repo))
    assert 0 < len(stored & set(killed_heads)) < KILLS, (stored, killed_heads)

    rpc.mine()  # the last killed daemon may have stored the head already (an incremental
    head = rpc.block_number()  # snapshot is quick): give the next one a new head to take
    last = DaemonProcess(config, log)
    last.wait_for_snapshot(head)
    assert last.stop() == 0
    assert head in assert_every_snapshot_whole(repo)
    latest = repo.latest_snapshot_id()
    assert latest is not None
    assert stored_snapshot(repo, latest) == _clean_snapshot(devnet, tmp_path / "clean", head)
    repo.engine.dispose()
