"""Snapshots are coherent and discovery is incremental, on SQLite and PostgreSQL.

- a rescan at the same block after new borrows gives an identical snapshot;
- a scan at a later block finds the new borrowers from the stored cursor, not from genesis;
- a scan that fails part-way writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from scanner.devnet.network import Devnet, seeded_devnet
from scanner.devnet.population import account_address
from scanner.devnet.rpc import DevnetRpc, Tx, calldata
from scanner.errors import ScannerError
from scanner.store.repository import Repository
from tests.integration.scan_helpers import devnet_config, scan

pytestmark = pytest.mark.integration


@pytest.fixture
def devnet() -> Iterator[Devnet]:
    # function scope: these tests add borrowers, so each starts from the cached state
    with seeded_devnet(seed=5, aave_positions=150) as net:
        yield net


def _new_borrowers(devnet: Devnet, seed: int, n: int) -> set[str]:
    """`n` new accounts borrow through real transactions: i WETH against $1,000 x i USDC."""
    rpc = DevnetRpc(devnet.rpc_url)
    pool, weth, usdc = devnet.aave.pool, devnet.aave.tokens["WETH"], devnet.aave.tokens["USDC"]
    accounts = [account_address(seed, i) for i in range(n)]
    txs = []
    for i, account in enumerate(accounts, start=1):
        txs += [
            Tx(account, weth, calldata("mint(uint256)", i * 10**18)),
            Tx(account, weth, calldata("approve(address,uint256)", pool, i * 10**18)),
            Tx(account, pool, calldata("supply(address,uint256,address,uint16)",
                                       weth, i * 10**18, account, 0)),
            Tx(account, pool, calldata("borrow(address,uint256,uint256,uint16,address)",
                                       usdc, i * 1_000 * 10**6, 2, 0, account)),
        ]
    rpc.send_many(txs)
    return set(accounts)


def test_rescan_same_block_after_new_borrows_is_identical(
    devnet: Devnet, db_url: str, tmp_path: Path
) -> None:
    config = devnet_config(devnet, tmp_path, db_url)
    repo = Repository.from_url(db_url)
    first = scan(config, repo)
    _new_borrowers(devnet, seed=901, n=20)
    again = scan(config, repo, block=first.record.block)
    assert again.already_stored and again.snapshot_id == first.snapshot_id
    assert sorted(again.results, key=repr) == sorted(first.results, key=repr)
    assert again.bands == first.bands and again.bins == first.bins
    stored = repo.load_positions(first.snapshot_id)
    assert sorted(stored, key=repr) == sorted(first.results, key=repr)


def test_later_scan_discovers_new_borrowers_from_the_cursor(
    devnet: Devnet, db_url: str, tmp_path: Path
) -> None:
    config = devnet_config(devnet, tmp_path, db_url)
    repo = Repository.from_url(db_url)
    first = scan(config, repo)
    assert first.markets[0].discovery.from_block == config.markets[0].start_block
    assert repo.get_cursor(config.markets[0].key) == first.record.block

    added = _new_borrowers(devnet, seed=902, n=25)
    second = scan(config, repo)
    lookback = config.chains["devnet"].reorg_lookback_blocks
    assert second.record.block > first.record.block
    assert second.markets[0].discovery.from_block == max(
        config.markets[0].start_block, first.record.block - lookback + 1)
    assert second.accounts_new == len(added)
    assert second.accounts_known == first.accounts_known + len(added)
    assert added <= {r.account for r in second.results}
    assert repo.get_cursor(config.markets[0].key) == second.record.block
    assert set(repo.known_accounts(config.markets[0].key)) >= added


def test_failed_scan_writes_nothing(devnet: Devnet, db_url: str, tmp_path: Path) -> None:
    config = devnet_config(devnet, tmp_path, db_url)
    repo = Repository.from_url(db_url)
    with pytest.raises(ScannerError):
        scan(config, repo, block=10**9)  # beyond the head: refused before any write
    assert repo.latest_snapshot_id() is None
    assert repo.get_cursor(config.markets[0].key) is None
