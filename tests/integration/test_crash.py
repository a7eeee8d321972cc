"""Crash safety: `liqscan scan` killed with SIGKILL, 20 times per database (SQLite and
PostgreSQL), half of them inside the write transaction (held there by a lock the test takes),
half at random moments. After every kill the database holds no scan or the whole clean one,
the cursor agrees with it, and the next run stores a snapshot identical to a clean scan."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from scanner.chain.pin import pin_block
from scanner.chain.rpc import RpcClient
from scanner.config import Config
from scanner.devnet.network import Devnet, write_config
from scanner.pipeline.scan import scan_market
from scanner.store.db import make_engine
from scanner.store.repository import Repository
from tests.integration.crash_helpers import (
    assert_consistent,
    kill,
    postgres_bands_locked,
    sqlite_commit_blocked,
    start_scan,
    wait_for,
)
from tests.integration.fault_helpers import Snapshot, fresh_sqlite, stored_snapshot
from tests.integration.scan_helpers import devnet_config, fresh_repo

pytestmark = pytest.mark.integration
KILLS_IN_TRANSACTION = 10
KILLS_AT_RANDOM = 10


@pytest.fixture(scope="module")
def reference(devnet: Devnet, tmp_path_factory: pytest.TempPathFactory
              ) -> Iterator[tuple[int, str, Snapshot, float]]:
    """(block, its hash, the clean snapshot, seconds a full CLI scan takes)."""
    folder = tmp_path_factory.mktemp("crash-reference")
    config = devnet_config(devnet, folder, fresh_sqlite(folder, "clean"))
    repo = fresh_repo(config)
    block = devnet.head_block
    outcome = asyncio.run(scan_market(config, config.markets[0], repo, block))

    async def block_hash() -> str:
        async with RpcClient(devnet.rpc_url) as rpc:
            return (await pin_block(rpc, block)).hash

    started = time.monotonic()
    # already stored: a full run that writes nothing, to time the random kills
    cli = start_scan(folder / "config.toml", config.markets[0].key, block)
    assert cli.wait(120) == 0, cli.stderr.read() if cli.stderr else ""
    yield block, asyncio.run(block_hash()), stored_snapshot(repo, outcome.snapshot_id), (
        time.monotonic() - started)


def _in_transaction_lock(config: Config) -> Callable[[], AbstractContextManager[
        Callable[[], bool]]]:
    url = make_url(config.database_url)
    if url.get_backend_name() == "sqlite":
        return lambda: sqlite_commit_blocked(Path(str(url.database)))
    engine = make_engine(config.database_url)
    return lambda: postgres_bands_locked(engine)


def test_sigkill_at_random_points_never_leaves_a_partial_scan(
    devnet: Devnet, db_url: str, tmp_path: Path, reference: tuple[int, str, Snapshot, float]
) -> None:
    block, block_hash, expected, full_seconds = reference
    config_path = tmp_path / "config.toml"
    write_config(devnet, config_path, database_url=db_url)
    config = devnet_config(devnet, tmp_path, db_url)
    repo = Repository.from_url(db_url)
    key = config.markets[0].key
    lock = _in_transaction_lock(config)

    for _ in range(KILLS_IN_TRANSACTION):
        with lock() as in_write_transaction:
            process = start_scan(config_path, key, block)
            wait_for(in_write_transaction, process)
            assert kill(process)
        assert not assert_consistent(repo, key, block, block_hash, expected)

    rng = random.Random(20261130)
    for _ in range(KILLS_AT_RANDOM):
        process = start_scan(config_path, key, block)
        time.sleep(rng.uniform(0.0, full_seconds))
        kill(process)
        assert_consistent(repo, key, block, block_hash, expected)

    final = start_scan(config_path, key, block)
    assert final.wait(120) == 0, final.stderr.read() if final.stderr else ""
    assert assert_consistent(repo, key, block, block_hash, expected)
