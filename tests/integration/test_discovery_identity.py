"""Discovery cannot lose borrowers (issue 8): a mistyped start_block, then the fix.

Before: a start_block beyond the head stored an empty scan and moved the cursor to the head;
after the fix later scans searched only from that cursor and about a third of the borrowers
stayed missing for good. Now: beyond the head is a config error that writes nothing; a
start_block that is wrong but inside the chain is remembered with the market identity, and
lowering it later searches again from the new start.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from scanner.config import Config, load_config
from scanner.devnet.network import Devnet, seeded_devnet, write_config
from scanner.devnet.rpc import DevnetRpc
from scanner.errors import ConfigError, InconsistentDataError
from scanner.store.repository import Repository
from tests.integration.scan_helpers import scan

pytestmark = pytest.mark.integration


@pytest.fixture
def devnet() -> Iterator[Devnet]:
    # function scope: these tests mine blocks
    with seeded_devnet(seed=5, aave_positions=150) as net:
        yield net


def _config(devnet: Devnet, folder: Path, db_url: str, start_block: int | None = None,
            provider: str | None = None) -> Config:
    path = folder / "config.toml"
    write_config(devnet, path, database_url=db_url)
    text = path.read_text()
    if start_block is not None:
        text = text.replace(f"start_block = {devnet.aave.deploy_block}",
                            f"start_block = {start_block}")
    if provider is not None:
        text = text.replace(devnet.aave.provider, provider)
    path.write_text(text)
    return load_config(path)


def test_typo_then_fix_finds_every_borrower(devnet: Devnet, db_url: str, tmp_path: Path) -> None:
    rpc = DevnetRpc(devnet.rpc_url)
    head = int(rpc.call("eth_blockNumber"), 16)
    repo = Repository.from_url(db_url)
    key = "aave-v3-devnet"

    # 1. a start_block beyond the head: a config error, nothing written
    beyond = _config(devnet, tmp_path, db_url, start_block=10 * head + 7)
    with pytest.raises(ConfigError, match=r"markets\[0\]\.start_block \d+ is beyond the chain"):
        scan(beyond, repo)
    assert repo.latest_snapshot_id() is None and repo.get_cursor(key) is None

    # 2. a start_block inside the chain but after most borrows: stored, and remembered
    late = _config(devnet, tmp_path, db_url, start_block=head - 1)
    partial = scan(late, repo)
    identity = repo.get_identity(key)
    assert identity is not None and identity.searched_from_block == head - 1

    # 3. the fix: the next scan searches from the real start again
    rpc.call("evm_mine")
    fixed = _config(devnet, tmp_path, db_url)
    healed = scan(fixed, repo)
    assert healed.markets[0].discovery.from_block == devnet.aave.deploy_block
    assert healed.accounts_known > partial.accounts_known
    identity = repo.get_identity(key)
    assert identity is not None and identity.searched_from_block == devnet.aave.deploy_block

    # ... and finds what a clean database finds at that block
    clean_url = f"sqlite:///{tmp_path / 'clean.db'}"
    from scanner.store import db
    db.upgrade(clean_url)
    clean = scan(_config(devnet, tmp_path / "clean", clean_url), Repository.from_url(clean_url),
                 block=healed.record.block)
    assert healed.accounts_known == clean.accounts_known
    assert sorted(healed.results, key=repr) == sorted(clean.results, key=repr)

    # 4. later scans continue from the cursor (no second full search)
    rpc.call("evm_mine")
    later = scan(fixed, repo)
    lookback = fixed.chains["devnet"].reorg_lookback_blocks
    assert later.markets[0].discovery.from_block == max(devnet.aave.deploy_block,
                                              healed.record.block + 1 - lookback)
    assert later.accounts_known == healed.accounts_known


def test_rescan_of_a_block_stored_with_the_typo_says_why(
    devnet: Devnet, db_url: str, tmp_path: Path
) -> None:
    rpc = DevnetRpc(devnet.rpc_url)
    head = int(rpc.call("eth_blockNumber"), 16)
    repo = Repository.from_url(db_url)
    partial = scan(_config(devnet, tmp_path, db_url, start_block=head - 1), repo)
    fixed = _config(devnet, tmp_path, db_url)
    with pytest.raises(InconsistentDataError, match=r"that scan lacks \d+ borrowers known now "
                                                    r"\(markets\[0\]\.start_block is now"):
        scan(fixed, repo, block=partial.record.block)
    assert repo.latest_snapshot_id() == partial.snapshot_id  # nothing was written
    # after a healed scan at a newer block, the old one is still explained, not called a reorg
    DevnetRpc(devnet.rpc_url).call("evm_mine")
    scan(fixed, repo)
    with pytest.raises(InconsistentDataError, match=r"lacks \d+ borrowers .*later start_block"):
        scan(fixed, repo, block=partial.record.block)


def test_changed_provider_address_is_refused(devnet: Devnet, db_url: str, tmp_path: Path) -> None:
    repo = Repository.from_url(db_url)
    scan(_config(devnet, tmp_path, db_url), repo)
    other = devnet.aave.tokens["WETH"]  # any other contract
    with pytest.raises(ConfigError, match=r"pool_addresses_provider is .* give this market a new"):
        scan(_config(devnet, tmp_path, db_url, provider=other), repo)


def test_database_without_identity_searches_again(
    devnet: Devnet, db_url: str, tmp_path: Path
) -> None:
    """A database scanned before identities existed (cursor, no identity): search once more
    from start_block, so a cursor that a mistyped start_block moved cannot hide anyone."""
    from sqlalchemy import delete

    from scanner.store.repository import IDENTITIES

    repo = Repository.from_url(db_url)
    config = _config(devnet, tmp_path, db_url)
    first = scan(config, repo)
    with repo.engine.begin() as conn:
        conn.execute(delete(IDENTITIES))
    DevnetRpc(devnet.rpc_url).call("evm_mine")
    again = scan(config, repo)
    assert again.markets[0].discovery.from_block == devnet.aave.deploy_block
    assert again.accounts_known == first.accounts_known
    assert repo.get_identity(config.markets[0].key) is not None
