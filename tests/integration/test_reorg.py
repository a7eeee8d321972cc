"""Reorgs deeper than `confirmations`, on the real devnet: evm_snapshot, new borrowers, a scan;
evm_revert, other borrowers, more blocks than before (the scanned blocks are replaced). The
next scan sees that the cursor's block changed, rewinds discovery to the fork point (the
newest stored block still on the chain) and finds every borrower of the new branch, none
twice; its snapshot equals a clean scan of the same block."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import text

from scanner.chain.pin import block_hash
from scanner.chain.rpc import RpcClient
from scanner.config import Config
from scanner.devnet.network import Devnet
from scanner.devnet.rpc import DevnetRpc
from scanner.store.repository import Repository
from tests.integration.fault_helpers import fresh_sqlite, stored_snapshot
from tests.integration.scan_helpers import devnet_config, fresh_repo, scan
from tests.integration.test_scan_snapshots import _new_borrowers

pytestmark = pytest.mark.integration


def _no_lookback(config: Config) -> Config:
    """The first market only, lookback 0: only the reorg check can find a borrower in a
    replaced block."""
    chains = {n: dataclasses.replace(c, reorg_lookback_blocks=0) for n, c in config.chains.items()}
    return dataclasses.replace(config, chains=chains, markets=config.markets[:1])


def _hash(devnet: Devnet, block: int) -> str | None:
    async def read() -> str | None:
        async with RpcClient(devnet.rpc_url) as rpc:
            return await block_hash(rpc, block)

    return asyncio.run(read())


def test_reorg_below_the_cursor_rewinds_discovery_to_the_fork_point(
    devnet: Devnet, devnet_snapshot: DevnetRpc, db_url: str, tmp_path: Path
) -> None:
    rpc = devnet_snapshot
    config = _no_lookback(devnet_config(devnet, tmp_path, db_url))
    key = config.markets[0].key
    repo = Repository.from_url(db_url)
    base = scan(config, repo)  # the fork point-to-be: its block survives the reorg

    fork = rpc.call("evm_snapshot")
    old_branch = _new_borrowers(devnet, seed=911, n=6)
    rpc.mine(3)
    before = scan(config, repo)
    assert old_branch <= {r.account for r in before.results}
    old_cursor_hash = repo.get_cursor_state(key)
    assert old_cursor_hash == (before.record.block, _hash(devnet, before.record.block))

    assert rpc.call("evm_revert", [fork]) is True
    new_branch = _new_borrowers(devnet, seed=912, n=6)
    rpc.mine(before.record.block - rpc.block_number() + 4)  # past the old cursor
    assert _hash(devnet, before.record.block) != old_cursor_hash[1]
    after = scan(config, repo)

    first_seen = repo.known_accounts(key)
    assert all(first_seen[a] <= before.record.block for a in new_branch)  # in replaced blocks
    assert after.markets[0].discovery.from_block == base.record.block + 1
    found = {r.account for r in after.results}
    assert new_branch <= found, "a borrower of the new branch was lost"
    assert not old_branch & found  # they never borrowed on this chain: no debt, no position
    keys = [(r.axis, r.account) for r in after.results]
    assert len(keys) == len(set(keys))
    assert repo.get_cursor_state(key) == (after.record.block, _hash(devnet, after.record.block))

    clean_config = dataclasses.replace(config, database_url=fresh_sqlite(tmp_path, "clean"))
    clean_repo = fresh_repo(clean_config)
    clean = scan(clean_config, clean_repo, block=after.record.block)
    assert stored_snapshot(repo, after.snapshot_id) == stored_snapshot(clean_repo,
                                                                       clean.snapshot_id)


def test_without_stored_hashes_nothing_rewinds(
    devnet: Devnet, devnet_snapshot: DevnetRpc, db_url: str, tmp_path: Path
) -> None:
    """The check is what finds them: the same reorg with the cursor's hash unknown (a cursor
    written before migration 0007) resumes after the cursor and misses the new branch."""
    rpc = devnet_snapshot
    config = _no_lookback(devnet_config(devnet, tmp_path, db_url))
    repo = Repository.from_url(db_url)
    scan(config, repo)
    fork = rpc.call("evm_snapshot")
    _new_borrowers(devnet, seed=913, n=4)
    rpc.mine(3)
    before = scan(config, repo)
    assert rpc.call("evm_revert", [fork]) is True
    new_branch = _new_borrowers(devnet, seed=914, n=4)
    rpc.mine(before.record.block - rpc.block_number() + 4)
    with repo.engine.begin() as conn:
        conn.execute(text("UPDATE discovery_cursors SET last_block_hash = NULL"))
    after = scan(config, repo)
    assert after.markets[0].discovery.from_block == before.record.block + 1
    assert not new_branch & {r.account for r in after.results}
