"""Killing `liqscan scan` with SIGKILL at chosen points, and what the database must look like
afterwards: no scan at all, or one whole scan equal to the clean one; the cursor absent or at
that scan's block with its hash, and set exactly when accounts are."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy import Engine, text

from scanner.store.repository import Repository
from tests.integration.fault_helpers import Snapshot, stored_snapshot

POLL_SECONDS = 0.002


def start_scan(config_path: Path, market_key: str, block: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "LIQSCAN_NO_PROGRESS": "1"}
    env.pop("LIQSCAN_CONFIG", None)
    return subprocess.Popen(
        [sys.executable, "-m", "scanner.cli", "--config", str(config_path), "scan",
         "--market", market_key, "--block", str(block)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)


def kill(process: subprocess.Popen[bytes]) -> bool:
    """SIGKILL; True when the process was still running (the kill interrupted something)."""
    alive = process.poll() is None
    if alive:
        os.kill(process.pid, signal.SIGKILL)
    process.wait(30)
    return alive


def wait_for(condition: Callable[[], bool], process: subprocess.Popen[bytes],
             timeout_seconds: float = 60) -> None:
    deadline = time.monotonic() + timeout_seconds
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"scan ended before the kill point: {process.stderr!r}")
        if time.monotonic() > deadline:
            raise AssertionError("kill point never reached")
        time.sleep(POLL_SECONDS)


@contextlib.contextmanager
def sqlite_commit_blocked(path: Path) -> Iterator[Callable[[], bool]]:
    """Hold a read transaction: a writer can fill its journal but cannot commit. Yields "is a
    write transaction open" (its rollback journal exists)."""
    reader = sqlite3.connect(path, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM scans").fetchall()  # SHARED lock until ROLLBACK
        yield Path(f"{path}-journal").exists
    finally:
        reader.execute("ROLLBACK")
        reader.close()


@contextlib.contextmanager
def postgres_bands_locked(engine: Engine) -> Iterator[Callable[[], bool]]:
    """Lock `bands` against writes: a scan blocks on its INSERT INTO bands, inside its write
    transaction (scan header, positions and bins already inserted). Yields "is it blocked"."""
    def blocked() -> bool:
        with engine.connect() as probe:
            return bool(probe.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query LIKE 'INSERT INTO bands%'")).scalar_one())

    with engine.connect() as conn:
        transaction = conn.begin()
        conn.execute(text("LOCK TABLE bands IN EXCLUSIVE MODE"))
        try:
            yield blocked
        finally:
            transaction.commit()


def assert_consistent(repo: Repository, market_key: str, block: int, block_hash: str,
                      expected: Snapshot) -> bool:
    """The database holds no scan, or the whole clean one; returns whether it holds it."""
    snapshots = repo.list_snapshots()
    cursor = repo.get_cursor_state(market_key)
    accounts = repo.known_accounts(market_key)
    if not snapshots:
        assert cursor is None and accounts == {}
        assert repo.scan_block_hashes(market_key) == {}
        assert repo.find_scan(market_key, block) is None
        return False
    (stored,) = snapshots
    assert stored.record.block == block
    snapshot = stored_snapshot(repo, stored.snapshot_id)
    assert snapshot == expected
    assert (stored.position_count, stored.bin_count, stored.band_count) == (
        len(snapshot.positions), len(snapshot.bins), len(snapshot.bands))
    assert cursor == (block, block_hash) and accounts
    assert repo.scan_block_hashes(market_key) == {block: block_hash}
    return True
